// Every page may be prerendered and shared: nothing in it belongs to one shopper. The
// cart count comes from /cart.json (which also sets the CSRF cookie), and "Add to cart"
// is posted from here with that cookie. Without JavaScript the form's GET leads to a
// dynamic page that asks again with a real form.
"use strict";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

function showCount(cart) {
  if (cart) document.getElementById("cart-count").textContent = cart.count;
  return cart;
}

function loadCart() {
  return fetch("/cart.json", {credentials: "same-origin", cache: "no-store"})
    .then((reply) => (reply.ok ? reply.json() : null))
    .then(showCount);
}

const cartLoaded = loadCart().catch(() => null);

async function addToCart(form, message) {
  if (!csrfToken()) await cartLoaded;
  const reply = await fetch(form.action, {
    method: "POST",
    credentials: "same-origin",
    headers: {"Accept": "application/json", "X-CSRFToken": csrfToken() || ""},
    body: new URLSearchParams({quantity: "1"}),
  });
  const cart = await reply.json();
  showCount(cart);
  message.textContent = reply.ok ? "Added to your cart." : cart.error;
}

for (const form of document.querySelectorAll("form[data-cart-add]")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const message = form.querySelector("[data-cart-message]");
    // Anything unexpected (no JSON, no network): the page without JavaScript's way.
    addToCart(form, message).catch(() => form.submit());
  });
}
