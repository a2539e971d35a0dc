// The dashboard: a view per section, picked by the URL's hash
// (#/clients, #/clients/<id>, ...), and the sign-in form shown whenever the
// API answers 401.

import { credential, onUnauthorized, signIn, signOut } from "./api.js";
import { say } from "./dom.js";
import { overview } from "./overview.js";
import { clientPage, clients } from "./clients.js";
import { subscriptions } from "./subscriptions.js";
import { retained } from "./retained.js";
import { publish } from "./publish.js";
import { watch } from "./watch.js";

/** Each view renders into `main` and returns a function that stops it. */
const VIEWS = {
  overview: () => overview,
  clients: (rest) => rest === undefined ? clients : clientPage(rest),
  subscriptions: () => subscriptions,
  retained: () => retained,
  publish: () => publish,
  watch: () => watch,
};

const main = document.getElementById("main");
const login = document.getElementById("login");
const signOutButton = document.getElementById("sign-out");
let stopView;

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const slash = hash.indexOf("/");
  const name = slash < 0 ? hash : hash.slice(0, slash);
  const rest = slash < 0
    ? undefined
    : decodeURIComponent(hash.slice(slash + 1));
  const known = Object.hasOwn(VIEWS, name);
  return { name: known ? name : "overview", rest: known ? rest : undefined };
}

function show() {
  stopView?.();
  stopView = undefined;
  const { name, rest } = route();
  for (const a of document.querySelectorAll(".top nav a")) {
    if (a.getAttribute("href") === `#/${name}`) {
      a.setAttribute("aria-current", "page");
    } else a.removeAttribute("aria-current");
  }
  login.hidden = true;
  main.hidden = false;
  signOutButton.hidden = credential() === null;
  main.replaceChildren();
  const status = document.getElementById("status");
  if (status.dataset.keep === undefined) say("");
  else delete status.dataset.keep;
  stopView = VIEWS[name](rest)(main);
}

function askForCredential() {
  stopView?.();
  stopView = undefined;
  main.hidden = true;
  login.hidden = false;
  signOutButton.hidden = true;
  document.getElementById(
    kind() === "basic" ? "login-user" : "login-token",
  ).focus();
}

function kind() {
  return document.querySelector('input[name="kind"]:checked').value;
}

function showKind() {
  for (const element of login.querySelectorAll("[data-kind]")) {
    element.hidden = element.dataset.kind !== kind();
  }
}

for (const radio of login.querySelectorAll('input[name="kind"]')) {
  radio.addEventListener("change", showKind);
}

document.getElementById("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = document.getElementById("login-token");
  const user = document.getElementById("login-user");
  const password = document.getElementById("login-password");
  const error = document.getElementById("login-error");
  if (kind() === "token" ? token.value === "" : user.value === "") {
    error.textContent = "Enter the credential first.";
    return;
  }
  error.textContent = "";
  signIn(kind(), token.value, user.value, password.value);
  token.value = "";
  password.value = "";
  show();
  main.focus();
});

signOutButton.addEventListener("click", () => {
  signOut();
  askForCredential();
});

onUnauthorized(() => {
  if (!login.hidden) return;
  const error = document.getElementById("login-error");
  error.textContent = credential() === null
    ? ""
    : "The API refused that credential.";
  signOut();
  askForCredential();
});

addEventListener("hashchange", () => {
  show();
  main.focus();
});
show();
