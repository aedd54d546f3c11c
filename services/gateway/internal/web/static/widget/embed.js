(() => {
  // src/widget/embed.js
  (() => {
    const me = document.currentScript;
    if (!me || !me.src) return;
    const origin = new URL(me.src).origin;
    const q = new URLSearchParams();
    const tenant = me.dataset.tenant || "";
    if (tenant) q.set("tenant", tenant);
    if (me.dataset.notice) q.set("notice", me.dataset.notice);
    const lang = me.dataset.lang || document.documentElement.lang || "";
    if (lang) q.set("lang", lang);
    if (me.dataset.seal === "off") q.set("seal", "off");
    const words = {
      en: ["Chat with us", "Close chat", "Chat with the shop"],
      de: ["Chatten Sie mit uns", "Chat schließen", "Chat mit dem Shop"],
      fr: ["Discutez avec nous", "Fermer la discussion", "Discussion avec la boutique"],
      es: ["Chatee con nosotros", "Cerrar el chat", "Chat con la tienda"],
      nl: ["Chat met ons", "Chat sluiten", "Chat met de winkel"],
      it: ["Chatta con noi", "Chiudi la chat", "Chat con il negozio"]
    }[lang.slice(0, 2).toLowerCase()] ?? ["Chat with us", "Close chat", "Chat with the shop"];
    const id = "sotto-chat-frame";
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = words[0];
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", id);
    button.className = "sotto-chat-launcher";
    Object.assign(button.style, {
      position: "fixed",
      right: "1rem",
      bottom: "1rem",
      zIndex: "2147483000",
      minHeight: "44px",
      padding: "0.5rem 1rem",
      border: "0",
      borderRadius: "999px",
      background: "#0b57d0",
      color: "#ffffff",
      font: "600 1rem system-ui, sans-serif",
      cursor: "pointer"
    });
    let frame = null;
    const open = (show) => {
      if (show && !frame) {
        frame = document.createElement("iframe");
        frame.id = id;
        frame.title = words[2];
        frame.src = `${origin}/widget/?${q}`;
        frame.referrerPolicy = "no-referrer";
        frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox");
        frame.setAttribute("allow", `publickey-credentials-get ${origin}`);
        Object.assign(frame.style, {
          position: "fixed",
          right: "1rem",
          bottom: "4.5rem",
          zIndex: "2147483000",
          width: "min(24rem, calc(100vw - 2rem))",
          height: "min(36rem, calc(100vh - 6rem))",
          border: "1px solid #c9ced6",
          borderRadius: "0.75rem",
          background: "#ffffff",
          boxShadow: "0 8px 24px rgba(0,0,0,0.2)"
        });
        document.body.append(frame);
      }
      if (!frame) return;
      frame.hidden = !show;
      button.setAttribute("aria-expanded", String(show));
      button.textContent = show ? words[1] : words[0];
      if (show) frame.focus();
    };
    button.addEventListener("click", () => open(!frame || frame.hidden));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && frame && !frame.hidden) {
        open(false);
        button.focus();
      }
    });
    const mount = () => document.body.append(button);
    if (document.body) mount();
    else document.addEventListener("DOMContentLoaded", mount);
  })();
})();
