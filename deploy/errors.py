"""The cluster tool's exceptions: one base class, one subclass per kind of failure."""


class DeployError(Exception):
    """The cluster tool could not do what was asked; the message says what and why."""


class ConfigurationError(DeployError):
    """The checkout, environment or machine cannot host the cluster as configured."""


class NotRunningError(DeployError):
    """The cluster's supervisord is not running (run `python -m deploy up`)."""


class NotHealthyError(DeployError):
    """A component did not become healthy within its bounded wait."""


class CommandError(DeployError):
    """An external command (initdb, migrate, nginx -t, ...) exited with an error."""


class RolloutError(DeployError):
    """A rolling update could not prove that every clone runs the new release."""


class LockedError(DeployError):
    """Another deploy command held the cluster's lock for longer than the bounded wait."""


class CheckFailedError(DeployError):
    """A check of deployed hosts (`make hosts-test`) saw them misbehave."""
