// walkout staff dashboard: one snapshot to start, then the staff event stream keeps it live.
// Plain JS, no build step, no network beyond this origin. The staff key comes once from ?key=
// and is kept for the tab; the event stream and trace pictures pass it as ?key= (EventSource and
// <img> cannot set headers), every other request sends it as X-API-Key.
"use strict";

(() => {
  const PX = 60; // SVG units per metre
  const DEPTH_GAIN = 1.6; // shelf levels share a plate's depth on the map; widen it a little
  const SVG_NS = "http://www.w3.org/2000/svg";
  const REFRESH_MS = 5000; // the stream has no stock events, so counts are re-read this often
  const MAX_RECEIPTS = 20;
  const MAX_ALERTS = 50;
  const UNSURE = 0.95; // a change less sure than this is shown in red on a review card
  const CLOSED_REVIEW = new Set(["resolved", "closed", "done", "charged"]);
  const CLOSED_ID_CHECK = new Set(["confirmed", "removed", "void", "resolved", "closed", "done"]);

  // The key arrives once in the address; it is kept for this tab only and taken out of the
  // address bar, so it stays out of the history and of anything copied from the address.
  const KEY_SLOT = "walkout-staff-key";
  const params = new URLSearchParams(location.search);
  const key = params.get("key") || sessionStorage.getItem(KEY_SLOT) || "";
  if (params.has("key")) {
    sessionStorage.setItem(KEY_SLOT, key);
    params.delete("key");
    history.replaceState(null, "", location.pathname + (params.size ? `?${params}` : "") + location.hash);
  }

  const state = {
    storeId: null,
    currency: "",
    t: null,
    layout: null,
    layoutSig: "",
    products: {},
    plates: new Map(), // plate id -> {counts, low, misplaced}
    people: [],
    carts: new Map(), // account -> cart
    reviews: new Map(), // id -> review
    idChecks: new Map(), // id -> id check
    alerts: [], // engine alerts, newest first
    receipts: [], // receipt events, newest first
    live: false,
  };
  window.walkoutDashboard = { state };

  // ---- small DOM helpers -------------------------------------------------------------------
  const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs = {}) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "testid") node.dataset.testid = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function fill(container, nodes, emptyText) {
    container.replaceChildren(...(nodes.length ? nodes : [el("p", { class: "empty" }, emptyText)]));
  }

  const productName = (sku) => (state.products[sku] && state.products[sku].name) || sku;
  const money = (v) => (v === null || v === undefined ? "" : `${state.currency ? state.currency + " " : ""}${v}`);
  const fmtT = (t) => (typeof t === "number" ? `${t.toFixed(1)} s` : "–");
  const units = (n) => Math.round(Number(n) || 0);

  // ---- HTTP --------------------------------------------------------------------------------
  async function api(path, options = {}) {
    const headers = Object.assign({ "X-API-Key": key }, options.headers || {});
    if (options.body && !headers["Content-Type"]) headers["Content-Type"] = "application/json";
    const res = await fetch(path, Object.assign({}, options, { headers }));
    if (res.status === 401 || res.status === 403) {
      denied(res.status === 401 ? "this key is not valid." : "this key is not a staff key.");
      throw new Error(`HTTP ${res.status}`);
    }
    if (!res.ok) {
      let detail = "";
      try { detail = JSON.stringify((await res.json()).detail || ""); } catch (_) { /* no body */ }
      throw new Error(`HTTP ${res.status} ${detail}`);
    }
    return res.status === 204 ? null : res.json();
  }

  function setStatus(s, text) {
    const node = $("status");
    node.dataset.state = s;
    node.textContent = text || { live: "live", reconnecting: "reconnecting…", denied: "no access", connecting: "connecting…" }[s];
  }

  function denied(text) {
    state.live = false;
    sessionStorage.removeItem(KEY_SLOT);
    setStatus("denied");
    $("auth-error-text").textContent = `The dashboard needs a staff key: ${text}`;
    $("auth-error").hidden = false;
    $("dashboard").hidden = true;
    if (stream) { stream.close(); stream = null; }
    clearInterval(timer);
  }

  // ---- snapshot ----------------------------------------------------------------------------
  let refreshTimer = null;
  let refreshing = false;

  function refreshSoon(delay = 400) {
    if (refreshTimer !== null) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, delay);
  }

  async function refresh() {
    if (refreshing) { refreshSoon(); return; }
    refreshing = true;
    try {
      applySnapshot(await api("/v1/staff/snapshot"));
    } catch (err) {
      if (!$("auth-error").hidden) return;
      console.warn("snapshot failed", err);
    } finally {
      refreshing = false;
    }
  }

  function applySnapshot(s) {
    $("dashboard").hidden = false;
    state.storeId = s.store_id;
    state.currency = s.currency || (s.layout && s.layout.currency) || "";
    if (typeof s.t === "number") state.t = s.t;
    state.products = s.products || {};
    const sig = JSON.stringify([s.layout && s.layout.plates.map((p) => p.id), s.layout && s.layout.gates]);
    if (s.layout && sig !== state.layoutSig) {
      state.layout = s.layout;
      state.layoutSig = sig;
      buildMap();
    }
    const before = state.plates;
    state.plates = new Map((s.plates || []).map((p) => [p.id, p]));
    state.people = s.people || [];
    state.carts = new Map((s.carts || []).map((c) => [c.account, c]));
    state.reviews = new Map((s.reviews || []).filter((r) => !CLOSED_REVIEW.has(r.status)).map((r) => [String(r.id), r]));
    state.idChecks = new Map((s.id_checks || []).filter((c) => !CLOSED_ID_CHECK.has(c.status)).map((c) => [String(c.id), c]));
    if (Array.isArray(s.alerts)) state.alerts = mergeAlerts(s.alerts, state.alerts);
    renderAll(before);
  }

  function mergeAlerts(fromSnapshot, known) {
    const seen = new Set();
    const out = [];
    for (const a of [...known, ...fromSnapshot]) {
      const k = `${a.t}|${a.kind}|${a.message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(a);
    }
    out.sort((a, b) => (b.t || 0) - (a.t || 0));
    return out.slice(0, MAX_ALERTS);
  }

  // ---- the event stream --------------------------------------------------------------------
  let stream = null;
  let timer = null;

  function connect() {
    stream = new EventSource(`/v1/staff/stream?key=${encodeURIComponent(key)}`);
    stream.onopen = () => { state.live = true; setStatus("live"); refreshSoon(0); };
    stream.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch (_) { return; }
      handle(ev);
    };
    stream.onerror = () => {
      state.live = false;
      if (stream && stream.readyState === EventSource.CLOSED) {
        // Refused (403) or the server went away for good: ask the snapshot route which it was.
        stream.close();
        stream = null;
        setStatus("reconnecting");
        refresh().then(() => { if ($("auth-error").hidden) setTimeout(connect, 2000); });
      } else {
        setStatus("reconnecting");
      }
    };
  }

  function handle(ev) {
    if (typeof ev.t === "number") state.t = Math.max(state.t || 0, ev.t);
    switch (ev.type) {
      case "people":
        state.people = ev.people || ev.positions || ev.items || [];
        renderPeople();
        break;
      case "cart": {
        const cart = Object.assign({}, state.carts.get(ev.account) || {}, {
          account: ev.account, items: ev.items || {}, total: ev.total, change: ev.change,
        });
        if ("needs_review" in ev) cart.needs_review = ev.needs_review;
        state.carts.set(ev.account, cart);
        renderCarts(new Set([ev.account]));
        refreshSoon(); // a pick or put-back changed a plate's stock
        break;
      }
      case "receipt":
        state.carts.delete(ev.account);
        // A held receipt comes again once staff decide: show its latest state only.
        state.receipts = state.receipts.filter((r) => (r.session_id || r.account) !== (ev.session_id || ev.account));
        state.receipts.unshift(ev);
        state.receipts.length = Math.min(state.receipts.length, MAX_RECEIPTS);
        renderCarts();
        renderReceipts();
        refreshSoon();
        break;
      case "alert":
        state.alerts = mergeAlerts([ev], state.alerts);
        renderAlerts();
        refreshSoon();
        break;
      case "review":
        upsert(state.reviews, ev.review || ev, CLOSED_REVIEW);
        renderReviews();
        break;
      case "id_check":
        upsert(state.idChecks, ev.id_check || ev, CLOSED_ID_CHECK);
        renderIdChecks();
        break;
      default:
        break;
    }
    renderHeader();
  }

  function upsert(map, item, closed) {
    const id = String(item.id);
    if (closed.has(item.status)) map.delete(id);
    else map.set(id, Object.assign({}, map.get(id) || {}, item));
  }

  // ---- rendering ---------------------------------------------------------------------------
  function renderAll(platesBefore) {
    renderHeader();
    renderMapStock();
    renderPeople();
    renderStock(platesBefore);
    renderCarts();
    renderReviews();
    renderIdChecks();
    renderAlerts();
    renderReceipts();
  }

  function renderHeader() {
    $("store-id").textContent = state.storeId || "–";
    $("store-clock").textContent = `t = ${fmtT(state.t)}`;
    const inside = state.people.length;
    $("count-people").textContent = `${inside} inside`;
    $("count-carts").textContent = `${state.carts.size} ${state.carts.size === 1 ? "cart" : "carts"}`;
    const todo = state.reviews.size + state.idChecks.size;
    const att = $("count-attention");
    att.textContent = `${todo} to do`;
    att.classList.toggle("on", todo > 0);
    badge("reviews-count", state.reviews.size);
    badge("id-checks-count", state.idChecks.size);
    $("carts-count").textContent = state.carts.size;
  }

  function badge(testid, n) {
    const b = $(testid);
    b.textContent = n;
    b.classList.toggle("zero", n === 0);
  }

  // ---- the map -----------------------------------------------------------------------------
  const map = { bounds: null, k: 1, plateEls: new Map(), marks: null, peopleLayer: null, personEls: new Map() };

  function toPx(x, y) {
    const b = map.bounds;
    return [(x - b.x0) * PX, (b.y1 - y) * PX];
  }

  function layoutBounds(layout) {
    const xs = [], ys = [];
    for (const p of layout.plates) { xs.push(p.center[0]); ys.push(p.center[1]); }
    for (const g of layout.gates) { xs.push(g.center[0]); ys.push(g.center[1]); }
    const floor = {
      x0: Math.floor(Math.min(...xs) - 1), x1: Math.ceil(Math.max(...xs) + 1),
      y0: Math.floor(Math.min(...ys)), y1: Math.ceil(Math.max(...ys) + 1.5),
    };
    // Gates usually sit on the wall: the floor starts there, people queue just outside it.
    return { floor, x0: floor.x0 - 0.5, x1: floor.x1 + 0.5, y0: floor.y0 - 1.2, y1: floor.y1 + 0.5 };
  }

  /** Plates of one shelf line (same facing, same distance along it) stacked by height. */
  function plateStrips(plates) {
    const lines = new Map();
    for (const p of plates) {
      const [fx, fy] = p.facing;
      const k = `${fx.toFixed(2)},${fy.toFixed(2)},${(p.center[0] * fx + p.center[1] * fy).toFixed(2)}`;
      if (!lines.has(k)) lines.set(k, new Set());
      lines.get(k).add(p.center[2].toFixed(2));
      p._line = k;
    }
    const levels = new Map([...lines].map(([k, zs]) => [k, [...zs].map(Number).sort((a, b) => a - b)]));
    return plates.map((p) => {
      const zs = levels.get(p._line);
      const n = zs.length;
      const level = zs.indexOf(Number(p.center[2].toFixed(2)));
      const [w, d] = p.size;
      const [fx, fy] = p.facing;
      const [ax, ay] = [-fy, fx];
      const dd = (d * DEPTH_GAIN) / n; // drawn deeper than it is, into the aisle, to be legible
      const off = -d / 2 + (level + 0.5) * dd; // lowest level at the back, top one at the aisle
      const cx = p.center[0] + fx * off, cy = p.center[1] + fy * off;
      const hw = w / 2 - 0.01, hd = dd / 2 - 0.008;
      const corners = [[-1, -1], [1, -1], [1, 1], [-1, 1]].map(([sa, sd]) =>
        [cx + ax * hw * sa + fx * hd * sd, cy + ay * hw * sa + fy * hd * sd]);
      return { plate: p, line: p._line, corners, mark: [cx + fx * hd * 0.2, cy + fy * hd * 0.2] };
    });
  }

  /** One pale backdrop per shelf line, so its levels read as one fixture. */
  function lineBackdrops(strips) {
    const boxes = new Map();
    for (const s of strips) {
      const b = boxes.get(s.line) || { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
      for (const [x, y] of s.corners) {
        b.x0 = Math.min(b.x0, x); b.y0 = Math.min(b.y0, y); b.x1 = Math.max(b.x1, x); b.y1 = Math.max(b.y1, y);
      }
      boxes.set(s.line, b);
    }
    return [...boxes.values()].map((b) => {
      const pad = 0.03;
      const [x, y] = toPx(b.x0 - pad, b.y1 + pad);
      return svg("rect", { class: "fixture", x, y, width: (b.x1 - b.x0 + 2 * pad) * PX, height: (b.y1 - b.y0 + 2 * pad) * PX, rx: 3 });
    });
  }

  function shelfLabels(plates) {
    const groups = new Map();
    for (const p of plates) {
      const name = p.shelf.includes("-") ? p.shelf.slice(0, p.shelf.indexOf("-")) : p.shelf;
      if (!groups.has(name)) groups.set(name, []);
      groups.get(name).push(p);
    }
    return [...groups].map(([name, ps]) => {
      const xs = ps.map((p) => p.center[0]), ys = ps.map((p) => p.center[1] + p.size[0] / 2);
      return { name, x: (Math.min(...xs) + Math.max(...xs)) / 2, y: Math.max(...ys) + 0.15 };
    });
  }

  function buildMap() {
    const root = $("store-map");
    const layout = state.layout;
    map.bounds = layoutBounds(layout);
    const b = map.bounds;
    root.setAttribute("viewBox", `0 0 ${(b.x1 - b.x0) * PX} ${(b.y1 - b.y0) * PX}`);
    // A big store's map is drawn smaller: grow labels and dots so they stay readable.
    map.k = Math.max(1, ((b.x1 - b.x0) * PX) / 760);
    root.style.setProperty("--k", map.k);
    const nodes = [];
    const [fx0, fy0] = toPx(b.floor.x0, b.floor.y1);
    nodes.push(svg("rect", { class: "floor", x: fx0, y: fy0, width: (b.floor.x1 - b.floor.x0) * PX, height: (b.floor.y1 - b.floor.y0) * PX }));
    for (let x = b.floor.x0 + 1; x < b.floor.x1; x++) {
      const [px, top] = toPx(x, b.floor.y1), [, bottom] = toPx(x, b.floor.y0);
      nodes.push(svg("line", { class: "grid-line", x1: px, y1: top, x2: px, y2: bottom }));
    }
    for (let y = b.floor.y0 + 1; y < b.floor.y1; y++) {
      const [left, py] = toPx(b.floor.x0, y), [right] = toPx(b.floor.x1, y);
      nodes.push(svg("line", { class: "grid-line", x1: left, y1: py, x2: right, y2: py }));
    }
    map.plateEls.clear();
    const strips = plateStrips(layout.plates);
    nodes.push(...lineBackdrops(strips));
    for (const strip of strips) {
      const pts = strip.corners.map(([x, y]) => toPx(x, y).map((v) => v.toFixed(1)).join(",")).join(" ");
      const poly = svg("polygon", { class: "plate", points: pts, testid: `plate-${strip.plate.id}` });
      poly.append(svg("title"));
      map.plateEls.set(strip.plate.id, { poly, strip });
      nodes.push(poly);
    }
    for (const s of shelfLabels(layout.plates)) {
      const [x, y] = toPx(s.x, s.y);
      nodes.push(svg("text", { class: "shelf-label", x, y, text: s.name }));
    }
    for (const g of layout.gates) {
      const horizontal = Math.abs(g.center[1] - b.floor.y0) < 0.6 || Math.abs(g.center[1] - b.floor.y1) < 0.6;
      const [dx, dy] = horizontal ? [g.width / 2, 0] : [0, g.width / 2];
      const [x1, y1] = toPx(g.center[0] - dx, g.center[1] - dy), [x2, y2] = toPx(g.center[0] + dx, g.center[1] + dy);
      nodes.push(svg("line", { class: `gate ${g.kind}`, x1, y1, x2, y2, testid: `gate-${g.id}` }));
      const [lx, ly] = toPx(g.center[0], g.center[1]);
      nodes.push(svg("text", { class: "gate-label", x: lx, y: ly + 18 * map.k, text: `${g.kind === "entry" ? "▲" : "▼"} ${g.id}` }));
    }
    map.marks = svg("g", { class: "marks" });
    map.peopleLayer = svg("g", { class: "people" });
    map.personEls.clear();
    nodes.push(map.marks, map.peopleLayer);
    root.replaceChildren(...nodes);
  }

  function plateState(p) {
    const counts = Object.values((p && p.counts) || {});
    const total = counts.reduce((a, n) => a + units(n), 0);
    if (p && counts.length && total === 0) return "empty";
    if (p && p.low) return "low";
    return "ok";
  }

  function renderMapStock() {
    if (!state.layout) return;
    const marks = [];
    for (const [id, { poly, strip }] of map.plateEls) {
      const p = state.plates.get(id);
      const st = plateState(p);
      poly.setAttribute("class", `plate ${st === "ok" ? "" : st}`);
      const counts = p ? Object.entries(p.counts || {}).map(([s, n]) => `${units(n)} × ${productName(s)}`).join("\n") : "";
      const mis = p && p.misplaced && p.misplaced.length ? `\nmisplaced: ${p.misplaced.map((m) => productName(m.sku)).join(", ")}` : "";
      poly.firstChild.textContent = `${id}\n${counts}${mis}`;
      if (p && p.misplaced && p.misplaced.length) {
        const [x, y] = toPx(...strip.mark);
        const m = svg("circle", { class: "mark", cx: x, cy: y, r: 4.5 * map.k, testid: `misplaced-mark-${id}` });
        const title = svg("title");
        title.textContent = `${p.misplaced.length} misplaced on ${id}`;
        m.append(title);
        marks.push(m);
      }
    }
    map.marks.replaceChildren(...marks);
  }

  function renderPeople() {
    if (!state.layout) return;
    const seen = new Set();
    for (const person of state.people) {
      if (!person.pos) continue;
      const pid = String(person.pid ?? person.id);
      seen.add(pid);
      let node = map.personEls.get(pid);
      if (!node) {
        node = svg("g", { class: "person", testid: `person-${pid}` });
        const k = map.k;
        node.append(svg("g", { class: "hands" }), svg("circle", { class: "body", r: 8 * k }), svg("text", { x: 11 * k, y: -9 * k }));
        map.peopleLayer.append(node);
        map.personEls.set(pid, node);
      }
      const [x, y] = person.pos;
      const account = person.account || "";
      node.dataset.account = account;
      node.dataset.x = x.toFixed(2);
      node.dataset.y = y.toFixed(2);
      node.classList.toggle("anon", !account);
      const [px, py] = toPx(x, y);
      node.style.transform = `translate(${px.toFixed(1)}px, ${py.toFixed(1)}px)`;
      node.querySelector("text").textContent = account || "no account";
      const hands = (person.hands || []).map(([hx, hy]) => svg("circle", { class: "hand", r: 3.5 * map.k, cx: ((hx - x) * PX).toFixed(1), cy: (-(hy - y) * PX).toFixed(1) }));
      node.firstChild.replaceChildren(...hands);
    }
    for (const [pid, node] of map.personEls) {
      if (!seen.has(pid)) { node.remove(); map.personEls.delete(pid); }
    }
    $("count-people").textContent = `${state.people.length} inside`;
  }

  // ---- stock table -------------------------------------------------------------------------
  function renderStock(before) {
    if (!state.layout) return;
    const rows = [];
    let low = 0, empty = 0, misplaced = 0;
    for (const plate of state.layout.plates) {
      const p = state.plates.get(plate.id) || { counts: {}, misplaced: [] };
      const st = plateState(p);
      if (st === "low") low++;
      if (st === "empty") empty++;
      const skus = Object.keys(p.counts || {}).length ? Object.keys(p.counts) : plate.skus;
      const names = skus.map((s) => el("div", {}, productName(s), state.products[s] && state.products[s].age_restricted ? el("span", { class: "tag age" }, "18+") : null));
      const nums = skus.map((s) => el("div", {}, p.counts && s in p.counts ? units(p.counts[s]) : "–"));
      const tags = [];
      if (st === "low") tags.push(el("span", { class: "tag low" }, "low"));
      if (st === "empty") tags.push(el("span", { class: "tag empty" }, "empty"));
      for (const m of p.misplaced || []) {
        misplaced++;
        tags.push(el("span", { class: "tag misplaced", title: `${m.g ?? ""} g` }, `misplaced: ${productName(m.sku)}`));
      }
      const old = before && before.get(plate.id);
      const changed = old && JSON.stringify(old.counts) !== JSON.stringify(p.counts);
      rows.push(el("tr", { class: `${st === "ok" ? "" : st}${changed ? " flash" : ""}`, testid: `stock-row-${plate.id}`, "data-state": st },
        el("td", { class: "plate-id" }, plate.id),
        el("td", {}, names),
        el("td", { class: "num", testid: `stock-count-${plate.id}` }, nums),
        el("td", { testid: `stock-status-${plate.id}` }, tags)));
    }
    $("stock-table").tBodies[0].replaceChildren(...rows);
    $("stock-summary").textContent = `${state.layout.plates.length} plates · ${low} low · ${empty} empty · ${misplaced} misplaced`;
  }

  // ---- carts -------------------------------------------------------------------------------
  const cartEls = new Map();

  function itemLines(items, testPrefix) {
    const entries = Object.entries(items || {}).filter(([, n]) => n > 0);
    if (!entries.length) return el("p", { class: "empty" }, "empty");
    return el("ul", {}, entries.map(([sku, n]) => el("li", { testid: testPrefix ? `${testPrefix}-${sku}` : null, "data-qty": n },
      el("span", { class: "qty" }, `${n} ×`), el("span", { class: "name" }, productName(sku)),
      state.products[sku] && state.products[sku].age_restricted ? el("span", { class: "tag age" }, "18+") : null)));
  }

  function renderCarts(flash = new Set()) {
    const list = $("carts");
    const nodes = [];
    const accounts = [...state.carts.keys()].sort();
    for (const account of accounts) {
      const cart = state.carts.get(account);
      const sig = JSON.stringify([cart.items, cart.total, cart.needs_review]);
      let node = cartEls.get(account);
      if (!node || node.dataset.sig !== sig) {
        const change = cart.change;
        const last = change ? `last: ${change.kind === "putback" ? "put back" : "picked"} ${Object.entries(change.items || {}).map(([s, n]) => `${n} × ${productName(s)}`).join(", ")}${typeof change.confidence === "number" ? ` (${(100 * change.confidence).toFixed(0)}%)` : ""}` : "";
        const fresh = el("div", { class: "item cart", testid: `cart-${account}`, "data-sig": sig },
          el("div", { class: "head" }, el("span", { class: "who" }, account),
            el("span", {}, cart.needs_review ? el("span", { class: "tag review" }, "doubt") : null, el("span", { class: "total" }, money(cart.total)))),
          itemLines(cart.items, `cart-item-${account}`),
          last ? el("div", { class: "meta" }, last) : null);
        if (node && flash.has(account)) fresh.classList.add("flash");
        node = fresh;
        cartEls.set(account, node);
      }
      nodes.push(node);
    }
    for (const account of [...cartEls.keys()]) if (!state.carts.has(account)) cartEls.delete(account);
    fill(list, nodes, "No open carts.");
    $("carts-count").textContent = state.carts.size;
  }

  // ---- reviews -----------------------------------------------------------------------------
  const reviewEls = new Map();

  function reviewItems(r) {
    return r.items || (r.receipt && r.receipt.items) || {};
  }

  function renderReviews() {
    const nodes = [];
    for (const [id, r] of [...state.reviews].sort((a, b) => String(a[0]).localeCompare(String(b[0]), undefined, { numeric: true }))) {
      const sig = JSON.stringify([r.status, r.reasons, reviewItems(r)]);
      let node = reviewEls.get(id);
      if (!node || node.dataset.sig !== sig) {
        node = reviewCard(id, r);
        node.dataset.sig = sig;
        reviewEls.set(id, node);
      }
      nodes.push(node);
    }
    for (const id of [...reviewEls.keys()]) if (!state.reviews.has(id)) reviewEls.delete(id);
    fill($("reviews"), nodes, "Nothing to review.");
    badge("reviews-count", state.reviews.size);
  }

  function reviewCard(id, r) {
    const items = Object.assign({}, reviewItems(r));
    const editor = el("table", { class: "editor", testid: `review-editor-${id}` });
    const totalEl = el("span", { class: "total", testid: `review-total-${id}` });
    const error = el("div", { class: "error", testid: `review-error-${id}` });

    const recompute = () => {
      let total = 0;
      for (const input of editor.querySelectorAll("input")) {
        const p = state.products[input.dataset.sku];
        total += (Number(input.value) || 0) * (p ? Number(p.price) : 0);
      }
      totalEl.textContent = money(total.toFixed(2));
    };
    const addRow = (sku, n) => {
      const input = el("input", { type: "number", min: 0, step: 1, value: n, "data-sku": sku, testid: `review-qty-${id}-${sku}`, oninput: recompute });
      editor.append(el("tr", {}, el("td", {}, input), el("td", {}, productName(sku))));
    };
    for (const [sku, n] of Object.entries(items)) addRow(sku, n);

    const picker = el("select", { testid: `review-add-${id}`, "aria-label": "add a product" },
      el("option", { value: "" }, "add a product…"),
      Object.entries(state.products).sort((a, b) => (a[1].name || a[0]).localeCompare(b[1].name || b[0]))
        .map(([sku, p]) => el("option", { value: sku }, p.name || sku)));
    picker.addEventListener("change", () => {
      const sku = picker.value;
      picker.value = "";
      if (!sku) return;
      const existing = editor.querySelector(`input[data-sku="${CSS.escape(sku)}"]`);
      if (existing) existing.value = Number(existing.value) + 1;
      else addRow(sku, 1);
      recompute();
    });

    const resolve = el("button", { class: "primary", testid: `review-resolve-${id}` }, "Resolve & charge");
    resolve.addEventListener("click", async () => {
      const fixed = {};
      for (const input of editor.querySelectorAll("input")) {
        const n = Math.max(0, Math.round(Number(input.value) || 0));
        if (n > 0) fixed[input.dataset.sku] = n;
      }
      resolve.disabled = true;
      error.textContent = "";
      try {
        await api(`/v1/staff/reviews/${encodeURIComponent(id)}/resolve`, { method: "POST", body: JSON.stringify({ items: fixed }) });
        state.reviews.delete(id);
        renderReviews();
        renderHeader();
        refreshSoon();
      } catch (err) {
        error.textContent = `Could not resolve: ${err.message}`;
        resolve.disabled = false;
      }
    });

    const traceSrc = `/v1/staff/reviews/${encodeURIComponent(id)}/trace.png?key=${encodeURIComponent(key)}`;
    const trace = el("img", { class: "trace", src: traceSrc, alt: `weight trace of review ${id}`, loading: "lazy", testid: `review-trace-${id}` });
    trace.addEventListener("click", () => {
      $("trace-dialog-img").src = traceSrc;
      $("trace-dialog").showModal();
    });
    trace.addEventListener("error", () => trace.replaceWith(el("p", { class: "empty" }, "No weight trace for this receipt.")));

    recompute();
    return el("div", { class: "item review", testid: `review-${id}`, "data-account": r.account },
      el("div", { class: "head" }, el("span", { class: "who" }, r.account || "?"), el("span", { class: "meta" }, r.session_id ? `session ${r.session_id}` : "")),
      (r.explanations || []).length ? el("ul", { class: "doubts" }, r.explanations.map(doubtLine)) : null,
      el("details", { class: "reasons-box" }, el("summary", {}, "engine's reasons"),
        el("ul", { class: "reasons" }, (r.reasons || []).map((why) => el("li", {}, why)))),
      trace, editor,
      el("div", { class: "actions" }, picker, el("span", {}, "total ", totalEl), resolve),
      error);
  }

  /** One doubtful change in words: what, where, how sure, and who else could have done it. */
  function doubtLine(e) {
    const what = Object.entries(e.items || {}).map(([sku, n]) => `${n} × ${productName(sku)}`).join(", ");
    const grams = (e.delta_g || []).reduce((a, g) => a + g, 0);
    const pct = (p) => `${(100 * p).toFixed(0)}%`;
    const who = (e.people || []).filter((p) => p.posterior >= 0.01)
      .map((p) => `${p.account || "no account"} ${pct(p.posterior)}`).join(", ");
    const alt = (e.products || []).slice(1, 3).filter((p) => p.posterior >= 0.01)
      .map((p) => `${p.description} ${pct(p.posterior)}`).join("; ");
    return el("li", {},
      el("strong", {}, `${e.kind === "putback" ? "put back" : "picked"} ${what}`),
      ` on ${(e.plates || []).join("+")} at ${fmtT(e.t)}, ${grams >= 0 ? "+" : ""}${grams.toFixed(0)} g, `,
      el("span", { class: (e.confidence ?? 0) < UNSURE ? "sure low" : "sure" }, `${pct(e.confidence ?? 0)} sure`),
      who ? el("div", { class: "meta" }, `who: ${who}`) : null,
      alt ? el("div", { class: "meta" }, `or: ${alt}`) : null);
  }

  // ---- ID checks ---------------------------------------------------------------------------
  function renderIdChecks() {
    const nodes = [];
    for (const [id, c] of state.idChecks) {
      const error = el("div", { class: "error" });
      const decide = (decision) => async (e) => {
        e.target.disabled = true;
        error.textContent = "";
        try {
          await api(`/v1/staff/id-checks/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify({ decision }) });
          state.idChecks.delete(id);
          renderIdChecks();
          renderHeader();
          refreshSoon();
        } catch (err) {
          error.textContent = `Could not record: ${err.message}`;
          e.target.disabled = false;
        }
      };
      nodes.push(el("div", { class: "item idcheck", testid: `id-check-${id}`, "data-account": c.account },
        el("div", { class: "head" }, el("span", { class: "who" }, c.account || "?"), el("span", { class: "tag age" }, "18+")),
        el("div", {}, `Check ID for ${productName(c.sku)}`),
        el("div", { class: "actions" },
          el("button", { class: "primary", testid: `id-check-confirm-${id}`, onclick: decide("confirmed") }, "ID OK"),
          el("button", { class: "danger", testid: `id-check-remove-${id}`, onclick: decide("removed") }, "Remove item")),
        error));
    }
    fill($("id-checks"), nodes, "No ID checks waiting.");
    badge("id-checks-count", state.idChecks.size);
  }

  // ---- restock and alerts ------------------------------------------------------------------
  function renderAlerts() {
    const nodes = [];
    if (state.layout) {
      for (const plate of state.layout.plates) {
        const p = state.plates.get(plate.id);
        if (!p) continue;
        const st = plateState(p);
        if (st !== "ok") {
          const what = Object.entries(p.counts || {}).map(([s, n]) => `${productName(s)}: ${units(n)} left`).join(", ");
          nodes.push(el("div", { class: "item alert-low", testid: `alert-restock-${plate.id}` },
            el("div", { class: "head" }, el("strong", {}, `Restock ${plate.id}`), el("span", { class: `tag ${st}` }, st)),
            el("div", { class: "meta" }, what)));
        }
        (p.misplaced || []).forEach((m, i) => {
          const home = plate.skus.map(productName).join(", ") || "nothing";
          nodes.push(el("div", { class: "item alert-misplaced", testid: `alert-misplaced-${plate.id}-${i}` },
            el("div", { class: "head" }, el("strong", {}, `Misplaced on ${plate.id}`), el("span", { class: "tag misplaced" }, "tidy")),
            el("div", { class: "meta" }, `${productName(m.sku)}${m.g ? ` (${Number(m.g).toFixed(0)} g)` : ""} lies where ${home} belongs`)));
        });
      }
    }
    state.alerts.forEach((a, i) => {
      nodes.push(el("div", { class: "item alert-engine", testid: `alert-event-${i}` },
        el("div", { class: "head" }, el("strong", {}, a.kind || "alert"), el("span", { class: "meta" }, fmtT(a.t))),
        el("div", { class: "meta" }, a.message || "")));
    });
    fill($("alerts"), nodes, "All shelves stocked.");
    $("alerts-count").textContent = nodes.length;
  }

  // ---- receipts ----------------------------------------------------------------------------
  function renderReceipts() {
    const nodes = state.receipts.map((ev) => {
      const rc = ev.receipt || {};
      const status = ev.status || "";
      const cls = status === "charged" ? "charged" : status ? "held" : "";
      return el("div", { class: "item", testid: `receipt-${ev.session_id || ev.account}` },
        el("div", { class: "head" }, el("span", { class: "who" }, ev.account),
          el("span", {}, status ? el("span", { class: `tag ${cls}` }, status.replaceAll("_", " ")) : null, el("span", { class: "total" }, money(rc.total)))),
        itemLines(rc.items, null));
    });
    fill($("receipts"), nodes, "No receipts yet.");
  }

  // ---- start -------------------------------------------------------------------------------
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const k = new FormData(e.target).get("key");
    if (k) {
      sessionStorage.setItem(KEY_SLOT, k);
      location.reload();
    }
  });

  if (!key) {
    denied("paste one below, or open this page with ?key=<staff key>.");
    return;
  }
  refresh().then(() => {
    if (!$("auth-error").hidden) return;
    connect();
    timer = setInterval(() => refreshSoon(0), REFRESH_MS);
  });
})();
