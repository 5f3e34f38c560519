// printgate: a little progressive JavaScript. Pages work without it; with it, the user search
// answers as you type (debounced, at most one request in flight, results escaped by using
// textContent), and a portal page with jobs still being analysed refreshes itself.
"use strict";

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function searchAsYouType(input) {
  const api = input.dataset.searchApi;
  const body = document.getElementById(input.dataset.searchResults).querySelector("tbody");
  let controller = null;
  const run = debounce(async () => {
    const query = input.value.trim();
    if (controller) controller.abort();
    if (!query) { body.replaceChildren(); return; }
    controller = new AbortController();
    try {
      const response = await fetch(api + "?q=" + encodeURIComponent(query),
        { credentials: "same-origin", signal: controller.signal, headers: { "Accept": "application/json" } });
      if (!response.ok) return;
      const users = await response.json();
      body.replaceChildren(...users.map((user) => {
        const row = document.createElement("tr");
        if (!user.active) row.className = "inactive";
        const link = document.createElement("a");
        link.href = "/console/users/" + encodeURIComponent(user.username);
        link.textContent = user.username;
        const cells = [link, user.full_name, user.email].map((content) => {
          const cell = document.createElement("td");
          if (typeof content === "string") cell.textContent = content; else cell.appendChild(content);
          return cell;
        });
        row.append(...cells);
        return row;
      }));
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
  }, 250);
  input.addEventListener("input", run);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-search-api]").forEach(searchAsYouType);
  if (document.querySelector(".analysing")) setTimeout(() => window.location.reload(), 3000);
});
