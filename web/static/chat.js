/* The chat widget: rasa-webchat (npm, served locally) on Rasa's socket.io
 * channel, plus what the clinic needs on top of it:
 * - accessibility: labels for the launcher, the input and the send button;
 *   the conversation announced to screen readers (role=log, aria-live);
 *   quick replies reachable and usable with the keyboard;
 * - the source line of factual answers marked so it shows under the answer;
 * - urgent answers (bubble class rw-kind-urgent, set by the server) marked
 *   for assistive technology too.
 * rasa-webchat escapes message text (React, markdown with escapeHtml), so a
 * message with HTML in it is shown as text and never runs.
 */
(function () {
  "use strict";
  var config = document.getElementById("chat-config").dataset;
  var root = document.getElementById("webchat");

  window.WebChat.default(
    {
      withRules: false,
      initPayload: "/greet",
      socketUrl: config.socketUrl,
      socketPath: "/socket.io/",
      title: config.clinicName,
      subtitle: "Questions about microneedling",
      inputTextFieldHint: "Type your question",
      connectingText: "Connecting…",
      hideWhenNotConnected: false,
      showMessageDate: false,
      // conversation and session id survive page reloads
      params: { storage: "local" },
      // show replies promptly (rasa-webchat waits by message length by default)
      customMessageDelay: function () { return 300; },
      mainColor: "#1f6f78",
      userBackgroundColor: "#1f6f78",
      userTextColor: "#ffffff"
    },
    root
  );

  function label(element, text) {
    if (element && element.getAttribute("aria-label") !== text) {
      element.setAttribute("aria-label", text);
    }
  }

  function enhance(root) {
    label(root.querySelector(".rw-launcher"), "Open or close the chat with the microneedling assistant");
    label(root.querySelector(".rw-close-button"), "Close the chat");
    label(root.querySelector("textarea.rw-new-message, input.rw-new-message"), "Your question");
    label(root.querySelector("button.rw-send"), "Send");

    var log = root.querySelector(".rw-messages-container");
    if (log && !log.hasAttribute("role")) {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-label", "Conversation");
      log.setAttribute("tabindex", "0");
    }

    root.querySelectorAll(".rw-reply").forEach(function (reply) {
      if (reply.dataset.enhanced) return;
      reply.dataset.enhanced = "1";
      reply.setAttribute("role", "button");
      reply.setAttribute("tabindex", "0");
      reply.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          reply.click();
        }
      });
    });

    root.querySelectorAll(".rw-response p").forEach(function (paragraph) {
      if (!paragraph.classList.contains("chat-source") && /^Sources?: /.test(paragraph.textContent)) {
        paragraph.classList.add("chat-source");
      }
      if (!paragraph.classList.contains("chat-disclaimer") && /^\(This is general information/.test(paragraph.textContent)) {
        paragraph.classList.add("chat-disclaimer");
      }
    });

    root.querySelectorAll(".rw-kind-urgent").forEach(function (bubble) {
      if (!bubble.hasAttribute("role")) {
        bubble.setAttribute("role", "alert");
      }
    });
  }

  new MutationObserver(function () { enhance(root); }).observe(root, { childList: true, subtree: true });
  enhance(root);
})();
