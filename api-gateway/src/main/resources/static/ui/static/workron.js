// Live refresh for the dashboard: an element with data-refresh="<url>" is replaced every two
// seconds by the same element as the server renders it now (a fragment of the page). When the
// element carries data-status and the fresh one's differs (a job ended), the whole page is loaded
// again, so its buttons match the new status. Nothing else runs on the page.
const EVERY_MS = 2000;

function watch(el) {
  const url = el.dataset.refresh;
  const tick = async () => {
    try {
      const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (r.redirected || r.status === 401 || r.status === 403) {
        location.reload();
        return;
      }
      if (r.ok) {
        const t = document.createElement("template");
        t.innerHTML = (await r.text()).trim();
        const fresh = t.content.firstElementChild;
        if (fresh) {
          if (el.dataset.status && fresh.dataset.status !== el.dataset.status) {
            // what the last button did is old news once the status moved on
            const again = new URL(location.href);
            again.searchParams.delete("notice");
            location.replace(again.href);
            return;
          }
          el.replaceWith(fresh);
          if (fresh.dataset.refresh) {
            watch(fresh);
          }
          return;
        }
      }
    } catch (e) {
      // the gateway is away for a moment: try again at the next tick
    }
    setTimeout(tick, EVERY_MS);
  };
  setTimeout(tick, EVERY_MS);
}

document.querySelectorAll("[data-refresh]").forEach(watch);
