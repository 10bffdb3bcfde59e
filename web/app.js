/* cpufleet's read-only web page: hosts, pools and their published
 * profiles, a pool's compatibility matrix with the reasons of a refused
 * cell, the drift events.  Everything comes from the /v1 API with the
 * reader token the user pasted (kept in sessionStorage, sent as
 * "Authorization: Bearer"); text is always set as text, never as HTML.
 * window.cpufleet.times holds how long the last renders took (ms), for
 * the tests. */
"use strict";
(function () {
	var KEY = "cpufleet.token";
	var times = {};
	var state = { hosts: [], pools: [], profiles: [], versions: {},
		      events: [], drift: {}, matrix: null, pool: null,
		      feature: null };
	window.cpufleet = { times: times, state: state };

	function $(id) { return document.getElementById(id); }

	/* el("td", {class: "x"}, "text", child...) */
	function el(tag, attrs) {
		var e = document.createElement(tag), k, i, c;
		for (k in attrs || {})
			if (Object.prototype.hasOwnProperty.call(attrs, k))
				e.setAttribute(k, attrs[k]);
		for (i = 2; i < arguments.length; i++) {
			c = arguments[i];
			if (c === null || c === undefined)
				continue;
			e.appendChild(typeof c === "object" ? c
				      : document.createTextNode(String(c)));
		}
		return e;
	}

	function clear(e) {
		while (e.firstChild)
			e.removeChild(e.firstChild);
	}

	/* The API: resolves to the JSON answer, rejects with the server's
	 * "error" text (err.status the HTTP status). */
	function api(method, path, body) {
		var h = { "Authorization": "Bearer " +
			  (sessionStorage.getItem(KEY) || "") };
		var opt = { method: method, headers: h, cache: "no-store",
			    credentials: "omit", redirect: "error" };
		if (body !== undefined) {
			h["Content-Type"] = "application/json";
			opt.body = JSON.stringify(body);
		}
		return fetch(path, opt).then(function (r) {
			return r.json().catch(function () { return null; })
				.then(function (j) {
					if (!r.ok) {
						var e = new Error(j && j.error ? j.error
								  : "HTTP " + r.status);
						e.status = r.status;
						throw e;
					}
					return j;
				});
		});
	}

	function seg(s) { return encodeURIComponent(s); }

	function labelText(labels) {
		var out = [], k;
		for (k in labels || {})
			if (Object.prototype.hasOwnProperty.call(labels, k))
				out.push(k + "=" + labels[k]);
		return out.sort().join(" ");
	}

	/* ---- log in ---- */

	function showLogin(msg) {
		$("app").hidden = true;
		$("search").hidden = true;
		$("logout").hidden = true;
		$("login").hidden = false;
		$("status").textContent = "";
		$("login-error").textContent = msg || "";
	}

	function login(ev) {
		ev.preventDefault();
		var t = $("token").value.trim();
		$("token").value = "";
		if (!t) {
			showLogin("paste a reader token first");
			return;
		}
		sessionStorage.setItem(KEY, t);
		load();
	}

	function logout() {
		sessionStorage.removeItem(KEY);
		showLogin("");
	}

	/* ---- loading ---- */

	function load() {
		var t0 = performance.now();
		$("status").textContent = "loading...";
		Promise.all([api("GET", "/v1/hosts"), api("GET", "/v1/pools"),
			     api("GET", "/v1/profiles"),
			     api("GET", "/v1/events?limit=10000")])
			.then(function (r) {
				state.hosts = r[0].hosts || [];
				state.pools = r[1].pools || [];
				state.profiles = r[2].profiles || [];
				state.events = r[3].events || [];
				return Promise.all(state.profiles.map(function (p) {
					return api("GET", "/v1/profiles/" + seg(p.name) +
						   "/versions").then(function (v) {
						state.versions[p.name] = v.versions || [];
					});
				}));
			})
			.then(function () {
				$("login").hidden = true;
				$("app").hidden = false;
				$("search").hidden = false;
				$("logout").hidden = false;
				var t1 = performance.now();
				renderAll();
				times.load = performance.now() - t0;
				times.render = performance.now() - t1;
				$("status").textContent = state.hosts.length + " hosts, " +
					state.pools.length + " pools";
			})
			.catch(function (e) {
				if (e.status === 401 || e.status === 403) {
					sessionStorage.removeItem(KEY);
					showLogin("refused: " + e.message);
				} else {
					showLogin("could not load the fleet: " + e.message);
				}
			});
	}

	/* ---- drift ---- */

	/* A host's drift state, from its newest event (events come newest
	 * first): refused when a published profile of its pools is now
	 * refused, changed when its report changed without that. */
	function driftOf(events) {
		var d = {};
		events.forEach(function (ev) {
			if (d[ev.host])
				return;
			var refused = (ev.profiles || []).filter(function (p) {
				return p.status === "now_refused";
			}).map(function (p) { return p.profile + "@" + p.version; });
			var feats = (ev.changes || []).map(function (c) {
				return [c.feature, c.feature_old, c.feature_new,
					c.register + "." + c.field].join(" ");
			}).join(" ");
			d[ev.host] = refused.length ?
				{ cls: "drift-refused", text: "now refuses " + refused.join(", ") +
				  " (" + ev.at + ")", features: feats } :
				{ cls: "drift-changed", text: "changed " + ev.at,
				  features: feats };
		});
		return d;
	}

	function renderAll() {
		state.drift = driftOf(state.events);
		renderPools();
		var t0 = performance.now();
		renderHosts();
		void document.body.offsetHeight;
		times.hosts = performance.now() - t0;
		renderEvents();
		applySearch();
	}

	function renderHosts() {
		var tb = $("hosts").tBodies[0], f = document.createDocumentFragment();
		clear(tb);
		state.hosts.forEach(function (h) {
			var d = state.drift[h.id] || { cls: "drift-none", text: "none" };
			var tr = el("tr", { "data-host": h.id },
				    el("td", null, h.id), el("td", null, h.arch),
				    el("td", null, h.last_seen),
				    el("td", null, labelText(h.labels)),
				    el("td", { "class": d.cls }, d.text),
				    el("td", { "class": "feature-col" }));
			tr.dataset.search = [h.id, h.hostname, h.arch,
					     labelText(h.labels), d.text, d.features]
				.join(" ").toLowerCase();
			f.appendChild(tr);
		});
		tb.appendChild(f);
	}

	function renderPools() {
		var tb = $("pools").tBodies[0];
		clear(tb);
		state.pools.forEach(function (p) {
			var def = [];
			if (labelText(p.labels))
				def.push("labels " + labelText(p.labels));
			if (p.hosts && p.hosts.length)
				def.push(p.hosts.length + " named hosts");
			var vers = [];
			state.profiles.forEach(function (pr) {
				if (pr.pool !== p.name)
					return;
				(state.versions[pr.name] || [pr]).forEach(function (v) {
					vers.push(v.name + "@" + v.version + " (" +
						  v.created_at + ")");
				});
			});
			var tr = el("tr", { "data-pool": p.name },
				    el("td", null, el("button", { type: "button",
					"class": "open-pool" }, p.name)),
				    el("td", null, def.join(", ") || "-"),
				    el("td", null, vers.join(", ") || "none published"));
			tr.dataset.search = [p.name, def.join(" "), vers.join(" ")]
				.join(" ").toLowerCase();
			tb.appendChild(tr);
		});
	}

	function renderEvents() {
		var ol = $("events");
		clear(ol);
		$("events-none").hidden = state.events.length > 0;
		state.events.forEach(function (ev) {
			var cause = (ev.cause || []).map(function (c) {
				return c.what + " " + c.old + " \u2192 " + c.new;
			}).join(", ");
			var ch = (ev.changes || []).map(function (c) {
				return (c.feature || c.register + "." + c.field) + " " +
					c.old + " \u2192 " + c.new + " (" + c.change + ")";
			}).join(", ");
			var ul = el("ul", { "class": "reasons" });
			(ev.profiles || []).forEach(function (p) {
				var sub = el("ul");
				(p.reasons || []).forEach(function (r) {
					sub.appendChild(el("li", null, r));
				});
				ul.appendChild(el("li", null, "profile " + p.profile + "@" +
					p.version + (p.pool ? " (pool " + p.pool + ")" : "") +
					": " + p.status.replace(/_/g, " "), sub));
			});
			var li = el("li", { "data-host": ev.host },
				    el("strong", null, ev.host), " " + ev.at +
				    (cause ? ": " + cause : "") + "; " +
				    (ch || "no feature changed"), ul);
			li.dataset.search = li.textContent.toLowerCase();
			ol.appendChild(li);
		});
	}

	/* ---- a pool's matrix ---- */

	function openPool(name) {
		var t0 = performance.now();
		state.pool = name;
		Array.prototype.forEach.call($("pools").tBodies[0].rows, function (tr) {
			tr.classList.toggle("open", tr.dataset.pool === name);
		});
		$("pool-view").hidden = false;
		$("reasons").hidden = true;
		$("pool-title").textContent = "Pool " + name + ": loading...";
		clear($("matrix"));
		api("GET", "/v1/pools/" + seg(name) + "/matrix").then(function (m) {
			if (state.pool !== name)
				return;
			var t1 = performance.now();
			times.matrixFetch = t1 - t0;
			renderMatrix(m);
			void document.body.offsetHeight;
			times.matrix = performance.now() - t1;
			times.matrixHosts = (m.hosts || []).length;
			times.matrixConfigs = (m.configs || []).length;
		}).catch(function (e) {
			$("pool-title").textContent = "Pool " + name + ": " + e.message;
		});
	}

	function hostList(c) {
		return el("details", null,
			  el("summary", null, c.config + " \u00b7 " + c.hosts.length +
			     (c.hosts.length === 1 ? " host" : " hosts")),
			  el("div", { "class": "hostlist" }, c.hosts.join(" ")));
	}

	function cellButton(cell, from, to) {
		var b = el("button", { type: "button",
			"class": "cell " + (cell.compatible ? "ok" : "bad") +
				 (from === to ? " self" : ""),
			"data-from": from, "data-to": cell.to },
			cell.compatible ? "ok" : "NO (" + cell.reasons + ")");
		b.title = (from === "published" ? "the published profile"
			   : "a VM started on " + from) + " \u2192 hosts of " + cell.to +
			(cell.compatible ? ": compatible" : ": " + cell.reasons + " reasons");
		return b;
	}

	function renderMatrix(m) {
		var box = $("matrix"), cfgs = m.configs || [], byName = {};
		state.matrix = m;
		cfgs.forEach(function (c) { byName[c.config] = c; });
		$("pool-title").textContent = "Pool " + m.pool + ": " +
			(m.hosts || []).length + " hosts, " + cfgs.length +
			" distinct configurations, " +
			(m.compatible ? "every move compatible" : "some moves refused");
		var head = el("tr", null, el("th", null, "from \\ to"));
		cfgs.forEach(function (c) {
			head.appendChild(el("th", null, c.config + " (" +
					    c.hosts.length + ")"));
		});
		var tb = el("tbody");
		(m.rows || []).forEach(function (row) {
			var tr = el("tr", null, el("td", { "class": "cfg" },
						     hostList(byName[row.from])));
			row.cells.forEach(function (cell) {
				tr.appendChild(el("td", null, cellButton(cell, row.from,
									 cell.to)));
			});
			tb.appendChild(tr);
		});
		var base = el("tr", { "class": "baseline" });
		if (m.baseline) {
			base.appendChild(el("th", null, "published " + m.baseline.profile));
			m.baseline.cells.forEach(function (cell) {
				base.appendChild(el("td", null,
						    cellButton(cell, "published", cell.to)));
			});
		} else {
			base.appendChild(el("th", null, "published"));
			base.appendChild(el("td", { colspan: String(cfgs.length),
				"class": "none" }, "no profile published for this pool"));
		}
		tb.appendChild(base);
		clear(box);
		box.appendChild(el("table", { id: "matrix-table" },
				   el("thead", null, head), tb));
	}

	/* A cell's reasons: the verdict of /v1/check for one host of the
	 * column, of the row's own profile ("from" a host of it) or of the
	 * published profile. */
	function showReasons(from, to) {
		var m = state.matrix, cfg = {};
		if (!m)
			return;
		m.configs.forEach(function (c) { cfg[c.config] = c; });
		var target = cfg[to].hosts[0];
		var body = from === "published" ?
			{ profile: m.baseline.profile, hosts: [target] } :
			{ from: cfg[from].hosts[0], hosts: [target] };
		var what = from === "published" ?
			"published profile " + m.baseline.profile :
			"a VM started on " + from + " (" + cfg[from].hosts[0] + ")";
		$("reasons").hidden = false;
		$("reasons-title").textContent = what + " \u2192 " + to +
			" (" + target + ")";
		$("reasons-summary").textContent = "checking...";
		clear($("reasons-list"));
		api("POST", "/v1/check", body).then(function (r) {
			var v = r.results[0], ul = $("reasons-list");
			$("reasons-summary").textContent = v.summary;
			v.reasons.forEach(function (x) {
				var li = el("li", null, x.text);
				li.dataset.search = x.text.toLowerCase();
				ul.appendChild(li);
			});
			applySearch();
		}).catch(function (e) {
			$("reasons-summary").textContent = "refused: " + e.message;
		});
	}

	/* ---- search ---- */

	/* The search text as a feature name: GET /v1/features/NAME (asked
	 * FEATURE_DELAY ms after the last key) tells which hosts offer it and
	 * which lack it; a 404 means it is no feature.  state.feature holds
	 * the answer for the text it was asked for. */
	var FEATURE_DELAY = 250, featureTimer = null;

	function askFeature() {
		var q = $("search").value.trim();
		if (featureTimer)
			clearTimeout(featureTimer);
		featureTimer = null;
		if (!/^[A-Za-z0-9._-]+$/.test(q) || q === "." || q === "..") {
			state.feature = null;
			return;
		}
		if (state.feature && state.feature.q === q)
			return;
		featureTimer = setTimeout(function () {
			featureTimer = null;
			api("GET", "/v1/features/" + seg(q)).then(function (r) {
				var by = {};
				(r.hosts || []).forEach(function (h) { by[h.id] = h.shows; });
				return { q: q, name: r.feature, hosts: by };
			}, function () { return { q: q, name: null }; })
				.then(function (f) {
					if ($("search").value.trim() !== q)
						return;
					state.feature = f.name ? f : null;
					applySearch();
				});
		}, FEATURE_DELAY);
	}

	function onSearch() {
		askFeature();
		applySearch();
	}

	/* The hosts a feature search names, each marked offers or lacks;
	 * the others hidden.  Returns how many are shown. */
	function featureRows(f) {
		var offered = 0, lacked = 0;
		Array.prototype.forEach.call($("hosts").tBodies[0].rows, function (tr) {
			var has = f.hosts[tr.dataset.host], td = tr.lastChild;
			var known = has !== undefined;
			tr.classList.toggle("hidden", !known);
			td.textContent = known ? (has ? "offers " : "lacks ") + f.name : "";
			td.className = "feature-col" + (known ? (has ? " feat-offers"
							      : " feat-lacks") : "");
			if (known && has)
				offered++;
			else if (known)
				lacked++;
		});
		$("feature-line").textContent = f.name + ": offered by " + offered +
			(offered === 1 ? " host" : " hosts") + ", lacked by " + lacked;
		return offered + lacked;
	}

	function applySearch() {
		var q = $("search").value.trim().toLowerCase(), shown = 0;
		var f = state.feature && state.feature.q.toLowerCase() === q ?
			state.feature : null;
		function filter(list) {
			Array.prototype.forEach.call(list, function (e) {
				var hit = !q || (e.dataset.search || "").indexOf(q) >= 0;
				e.classList.toggle("hidden", !hit);
			});
		}
		$("hosts").classList.toggle("by-feature", !!f);
		$("feature-line").hidden = !f;
		if (f) {
			shown = featureRows(f);
		} else {
			Array.prototype.forEach.call($("hosts").tBodies[0].rows, function (tr) {
				var hit = !q || tr.dataset.search.indexOf(q) >= 0;
				tr.classList.toggle("hidden", !hit);
				if (hit)
					shown++;
			});
		}
		$("hosts-count").textContent = q ? "(" + shown + " of " +
			state.hosts.length + " match)" : "(" + state.hosts.length + ")";
		filter($("pools").tBodies[0].rows);
		filter($("events").children);
		filter($("reasons-list").children);
	}

	/* ---- wiring ---- */

	document.addEventListener("DOMContentLoaded", function () {
		$("login-form").addEventListener("submit", login);
		$("logout").addEventListener("click", logout);
		$("search").addEventListener("input", onSearch);
		$("pools").addEventListener("click", function (ev) {
			var tr = ev.target.closest("tr[data-pool]");
			if (tr)
				openPool(tr.dataset.pool);
		});
		$("matrix").addEventListener("click", function (ev) {
			var b = ev.target.closest("button.cell");
			if (b)
				showReasons(b.dataset.from, b.dataset.to);
		});
		if (sessionStorage.getItem(KEY))
			load();
		else
			showLogin("");
	});
})();
