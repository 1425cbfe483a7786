"use strict";
document.getElementById("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const response = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ password: document.getElementById("password").value }) });
  if (response.ok) location.href = "/admin";
  else document.getElementById("error").textContent = (await response.json()).error.message;
});
