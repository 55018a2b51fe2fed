// bond server dashboard. Plain ES2020, no dependencies, no build step.
//
// Data flow:
//   GET /runs every 5 s (and shortly after every status event) fills the runs list.
//   The selected run (location.hash "#run=ID", else the newest running run, else the newest) gets
//   two EventSources, /runs/ID/metrics and /runs/ID/eval. Their lines are kept per step (the newest
//   line for a step wins) and drawn on four canvases, at most once per animation frame.
//   A stream that ends (the server completes it when the run ends) is closed, never left to the
//   browser's automatic reconnect; it is reopened only when the run is active again (resume), or
//   after a back-off when it broke while the run was still active.
'use strict';

(() => {
  const POLL_MS = 5000;
  const STATUS_REFRESH_DELAY_MS = 250;
  const RECONNECT_MIN_MS = 1000;
  const RECONNECT_MAX_MS = 30000;
  const TERMINAL = new Set(['stopped', 'finished', 'failed']);
  const ACTIVE = new Set(['queued', 'running', 'stopping']);
  const STOPPABLE = new Set(['queued', 'running']);

  const COLORS = {
    frontier: '#2563eb',
    quantile: '#7c3aed',
    reward: '#059669',
    stepTime: '#d97706',
    reference: '#6b7280',
    grid: '#eceef1',
    axis: '#c4c9d0',
    text: '#5f6670',
    title: '#1d1f23',
  };

  const byId = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- numbers and formatting

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

  /** A short human form of a metric value; an em dash for missing values. */
  function fmt(v, digits = 3) {
    if (!isNum(v)) return '—';
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
    if (a >= 1000) return v.toFixed(0);
    if (a >= 100) return v.toFixed(1);
    return v.toFixed(digits);
  }

  function fmtSeconds(ms) {
    if (!isNum(ms)) return '—';
    const s = ms / 1000;
    return s >= 100 ? `${s.toFixed(0)} s` : s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`;
  }

  function fmtStep(step, total) {
    const s = Number.isInteger(step) ? String(step) : '—';
    return Number.isInteger(total) ? `${s} / ${total}` : s;
  }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }

  // ---------------------------------------------------------------- per-step series

  /**
   * Lines kept sorted by their integer `step`; a second line for a step replaces the first (a
   * resumed run rewrites the lines of the steps it redoes). Appending in order is O(1).
   */
  class StepSeries {
    constructor() {
      this.steps = [];
      this.lines = [];
    }

    get size() {
      return this.steps.length;
    }

    get last() {
      return this.lines.length ? this.lines[this.lines.length - 1] : null;
    }

    get lastStep() {
      return this.steps.length ? this.steps[this.steps.length - 1] : -1;
    }

    clear() {
      this.steps = [];
      this.lines = [];
    }

    /** Adds or replaces the line of its step; false for a line without an integer step. */
    upsert(line) {
      const step = line && line.step;
      if (!Number.isInteger(step)) return false;
      const n = this.steps.length;
      if (n === 0 || step > this.steps[n - 1]) {
        this.steps.push(step);
        this.lines.push(line);
        return true;
      }
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.steps[mid] < step) lo = mid + 1;
        else hi = mid;
      }
      if (this.steps[lo] === step) {
        this.lines[lo] = line;
      } else {
        this.steps.splice(lo, 0, step);
        this.lines.splice(lo, 0, line);
      }
      return true;
    }
  }

  // ---------------------------------------------------------------- Best-of-N reference

  /** KL(Best-of-N || reference) in nats for N >= 1. */
  const bonKl = (n) => Math.log(n) - (n - 1) / n;
  /** Quantile of Best-of-N against the reference. */
  const bonQuantile = (n) => n / (n + 1);

  const BON_CURVE = (() => {
    const xs = [];
    const ys = [];
    const samples = 120;
    for (let i = 0; i <= samples; i++) {
      const n = Math.pow(64, i / samples); // log spacing from 1 to 64
      xs.push(bonKl(n));
      ys.push(bonQuantile(n));
    }
    return { xs, ys };
  })();
  const BON_LABELS = [2, 4, 8, 16, 32];

  // ---------------------------------------------------------------- axes

  function niceStep(span, target) {
    const raw = span / Math.max(1, target);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    const nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return nice * mag;
  }

  function ticks(min, max, target, integer) {
    let step = niceStep(max - min, target);
    if (integer) step = Math.max(1, Math.round(step));
    const out = [];
    const first = Math.ceil(min / step - 1e-9) * step;
    for (let v = first, i = 0; v <= max + step * 1e-9 && i < 200; v = first + ++i * step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return { values: out, step };
  }

  function tickFormatter(step, maxAbs) {
    if (maxAbs >= 1e6 || (step < 1e-4 && maxAbs < 1e-3)) return (v) => (v === 0 ? '0' : v.toExponential(1));
    const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
    return (v) => v.toFixed(decimals);
  }

  /** Expands [min, max] by a fraction of its span, or around the value when the span is 0. */
  function padRange(min, max, fraction) {
    if (!isNum(min) || !isNum(max)) return [0, 1];
    if (max - min < 1e-12) {
      const d = Math.abs(min) > 1e-9 ? Math.abs(min) * 0.1 : 0.5;
      return [min - d, max + d];
    }
    const d = (max - min) * fraction;
    return [min - d, max + d];
  }

  /** min/max of the finite values of one array. */
  function extent(values) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (!isNum(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return min <= max ? [min, max] : null;
  }

  // ---------------------------------------------------------------- canvas plot

  /**
   * One canvas plot. `model()` returns {series, x: [min, max], y: [min, max], count, labels,
   * integerX, xLabel, yLabel, empty}; each series is {xs, ys, color, width, dash, markers, sorted,
   * hover, describe(i)}. Points whose x or y is not finite are skipped. `count` (the run's points
   * that were drawn) goes to the canvas's data-points attribute.
   */
  class Plot {
    constructor(canvas, model) {
      this.canvas = canvas;
      this.model = model;
      this.ctx = canvas.getContext('2d');
      this.hover = null; // mouse position in CSS pixels
      this.baseLabel = canvas.getAttribute('aria-label') || '';
      canvas.addEventListener('mousemove', (e) => {
        const r = canvas.getBoundingClientRect();
        this.hover = { x: e.clientX - r.left, y: e.clientY - r.top };
        scheduleDraw();
      });
      canvas.addEventListener('mouseleave', () => {
        this.hover = null;
        scheduleDraw();
      });
    }

    draw() {
      const canvas = this.canvas;
      const ctx = this.ctx;
      const m = this.model();
      const dpr = window.devicePixelRatio || 1;
      const width = canvas.clientWidth;
      const height = canvas.clientHeight;
      if (width === 0 || height === 0) return;
      const pw = Math.round(width * dpr);
      const ph = Math.round(height * dpr);
      if (canvas.width !== pw || canvas.height !== ph) {
        canvas.width = pw;
        canvas.height = ph;
      }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);

      const box = { left: 58, right: width - 14, top: 10, bottom: height - 38 };
      const [x0, x1] = m.x;
      const [y0, y1] = m.y;
      const sx = (v) => box.left + ((v - x0) / (x1 - x0)) * (box.right - box.left);
      const sy = (v) => box.bottom - ((v - y0) / (y1 - y0)) * (box.bottom - box.top);

      this.drawAxes(ctx, m, box, sx, sy);

      ctx.save();
      ctx.beginPath();
      ctx.rect(box.left, box.top - 1, box.right - box.left, box.bottom - box.top + 2);
      ctx.clip();
      const hoverTargets = [];
      for (const s of m.series) {
        const drawn = this.drawSeries(ctx, s, box, sx, sy);
        if (s.hover) hoverTargets.push({ series: s, points: drawn });
      }
      let lastLabel = null;
      for (const label of m.labels || []) {
        const px = sx(label.x);
        const py = sy(label.y);
        // Skip a label that would overlap the previous one (a steep part of a curve).
        if (lastLabel && Math.abs(px - lastLabel[0]) < 34 && Math.abs(py - lastLabel[1]) < 14) continue;
        lastLabel = [px, py];
        ctx.fillStyle = label.color;
        ctx.beginPath();
        ctx.arc(px, py, 2.5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.font = '11px system-ui, sans-serif';
        ctx.textAlign = 'left';
        ctx.textBaseline = 'top';
        ctx.fillText(label.text, px + 5, py + 3);
      }
      ctx.restore();

      if (m.count === 0 && m.empty) {
        ctx.fillStyle = COLORS.text;
        ctx.font = '13px system-ui, sans-serif';
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(m.empty, (box.left + box.right) / 2, box.top + (box.bottom - box.top) * (m.emptyAt || 0.5));
      }
      if (this.hover) this.drawHover(ctx, hoverTargets, box, width);

      canvas.dataset.points = String(m.count);
      const latest = m.latest ? `, latest ${m.latest}` : '';
      canvas.setAttribute('aria-label', `${this.baseLabel}: ${m.count} points${latest}`);
    }

    drawAxes(ctx, m, box, sx, sy) {
      const [x0, x1] = m.x;
      const [y0, y1] = m.y;
      const xt = ticks(x0, x1, Math.max(2, Math.floor((box.right - box.left) / 80)), m.integerX);
      const yt = ticks(y0, y1, Math.max(2, Math.floor((box.bottom - box.top) / 45)), false);
      const fx = tickFormatter(xt.step, Math.max(Math.abs(x0), Math.abs(x1)));
      const fy = tickFormatter(yt.step, Math.max(Math.abs(y0), Math.abs(y1)));

      ctx.lineWidth = 1;
      ctx.strokeStyle = COLORS.grid;
      ctx.beginPath();
      for (const v of xt.values) {
        const px = Math.round(sx(v)) + 0.5;
        ctx.moveTo(px, box.top);
        ctx.lineTo(px, box.bottom);
      }
      for (const v of yt.values) {
        const py = Math.round(sy(v)) + 0.5;
        ctx.moveTo(box.left, py);
        ctx.lineTo(box.right, py);
      }
      ctx.stroke();

      ctx.strokeStyle = COLORS.axis;
      ctx.beginPath();
      ctx.moveTo(box.left + 0.5, box.top);
      ctx.lineTo(box.left + 0.5, box.bottom + 0.5);
      ctx.lineTo(box.right, box.bottom + 0.5);
      ctx.stroke();

      ctx.fillStyle = COLORS.text;
      ctx.font = '11px system-ui, -apple-system, "Segoe UI", sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.beginPath();
      for (const v of xt.values) {
        const px = Math.round(sx(v)) + 0.5;
        ctx.moveTo(px, box.bottom);
        ctx.lineTo(px, box.bottom + 4);
        ctx.fillText(fx(v), px, box.bottom + 6);
      }
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (const v of yt.values) {
        const py = Math.round(sy(v)) + 0.5;
        ctx.moveTo(box.left - 4, py);
        ctx.lineTo(box.left, py);
        ctx.fillText(fy(v), box.left - 6, py);
      }
      ctx.stroke();

      ctx.fillStyle = COLORS.title;
      ctx.font = '11.5px system-ui, -apple-system, "Segoe UI", sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(m.xLabel, (box.left + box.right) / 2, box.bottom + 36);
      ctx.save();
      ctx.translate(12, (box.top + box.bottom) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = 'middle';
      ctx.fillText(m.yLabel, 0, 0);
      ctx.restore();
    }

    /** Draws one series; returns its drawn points as [px, py, index] for hovering. */
    drawSeries(ctx, s, box, sx, sy) {
      const n = Math.min(s.xs.length, s.ys.length);
      const pts = [];
      for (let i = 0; i < n; i++) {
        const x = s.xs[i];
        const y = s.ys[i];
        if (isNum(x) && isNum(y)) pts.push([sx(x), sy(y), i]);
      }
      if (pts.length === 0) return pts;
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      ctx.lineWidth = s.width || 1.6;
      ctx.lineJoin = 'round';
      ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      const columns = box.right - box.left;
      if (s.sorted && pts.length > 3 * columns) {
        // Many more points than pixels: one vertical min-max stroke per pixel column.
        let col = Math.floor(pts[0][0]);
        let lo = pts[0][1];
        let hi = lo;
        let first = true;
        const flush = () => {
          if (first) {
            ctx.moveTo(col, lo);
            first = false;
          } else {
            ctx.lineTo(col, lo);
          }
          ctx.lineTo(col, hi);
        };
        for (const [px, py] of pts) {
          const c = Math.floor(px);
          if (c !== col) {
            flush();
            col = c;
            lo = py;
            hi = py;
          } else {
            if (py < lo) lo = py;
            if (py > hi) hi = py;
          }
        }
        flush();
      } else {
        ctx.moveTo(pts[0][0], pts[0][1]);
        for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
      }
      ctx.stroke();
      ctx.setLineDash([]);
      const markers = s.markers === true || (s.markers === 'auto' && pts.length <= 60);
      if (markers) {
        for (const [px, py] of pts) {
          ctx.beginPath();
          ctx.arc(px, py, s.markerRadius || 2.6, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
      if (s.highlightLast) {
        const [px, py] = pts[pts.length - 1];
        ctx.beginPath();
        ctx.arc(px, py, 5, 0, 2 * Math.PI);
        ctx.fillStyle = '#fff';
        ctx.fill();
        ctx.lineWidth = 2;
        ctx.stroke();
      }
      return pts;
    }

    drawHover(ctx, targets, box, width) {
      const { x: mx, y: my } = this.hover;
      if (mx < box.left - 10 || mx > box.right + 10 || my < box.top - 10 || my > box.bottom + 10) return;
      let best = null;
      let bestD = 40 * 40;
      for (const t of targets) {
        for (const p of t.points) {
          const dx = p[0] - mx;
          const dy = (p[1] - my) * (t.series.sorted ? 0.15 : 1); // line plots: nearest in x
          const d = dx * dx + dy * dy;
          if (d < bestD) {
            bestD = d;
            best = { p, series: t.series };
          }
        }
      }
      if (!best) return;
      const [px, py, index] = best.p;
      ctx.strokeStyle = best.series.color;
      ctx.lineWidth = 1;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(Math.round(px) + 0.5, box.top);
      ctx.lineTo(Math.round(px) + 0.5, box.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#fff';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(px, py, 4.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();

      const text = best.series.describe ? best.series.describe(index) : '';
      if (!text) return;
      ctx.font = '12px system-ui, -apple-system, "Segoe UI", sans-serif';
      const tw = ctx.measureText(text).width + 12;
      let tx = px + 10;
      if (tx + tw > width - 2) tx = px - 10 - tw;
      const ty = Math.max(box.top, Math.min(py - 28, box.bottom - 22));
      ctx.fillStyle = 'rgba(29, 31, 35, 0.88)';
      ctx.beginPath();
      if (ctx.roundRect) ctx.roundRect(tx, ty, tw, 20, 4);
      else ctx.rect(tx, ty, tw, 20);
      ctx.fill();
      ctx.fillStyle = '#fff';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText(text, tx + 6, ty + 10);
    }
  }

  // ---------------------------------------------------------------- state

  const state = {
    runs: [],
    selectedId: null,
    explicit: false, // selected by the hash (or a click) rather than by default
    summary: null,
    notFound: false,
    metrics: new StepSeries(),
    evals: new StepSeries(),
    latest: { metrics: null, eval: null }, // the line received last (a redone step is not the maximum)
    streams: { metrics: null, eval: null },
    reconnect: { metrics: null, eval: null },
    backoff: { metrics: RECONNECT_MIN_MS, eval: RECONNECT_MIN_MS },
    generation: 0, // bumped on every selection; stale callbacks compare and return
    pollTimer: null,
    refreshing: false,
    refreshQueued: false,
    statusRefreshTimer: null,
    actionPending: false,
    unauthorized: false,
    summaryFetch: null, // the GET /runs/ID under way, if any
  };

  // ---------------------------------------------------------------- HTTP

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function request(method, path) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      throw new HttpError(0, 'The server cannot be reached');
    }
    let body = null;
    const text = await response.text();
    if (text) {
      try {
        body = JSON.parse(text);
      } catch (e) {
        body = null;
      }
    }
    if (response.status === 401) showUnauthorized();
    if (!response.ok) {
      const message = body && typeof body.error === 'string' && body.error
        ? body.error
        : `${response.status} ${response.statusText || 'error'}`.trim();
      throw new HttpError(response.status, message);
    }
    return body;
  }

  const runPath = (id) => `/runs/${encodeURIComponent(id)}`;

  function showUnauthorized() {
    state.unauthorized = true;
    byId('auth-banner').hidden = false;
  }

  // ---------------------------------------------------------------- runs list

  async function refreshRuns() {
    if (state.refreshing) {
      state.refreshQueued = true;
      return;
    }
    state.refreshing = true;
    const connection = byId('connection');
    try {
      const body = await request('GET', '/runs');
      state.runs = Array.isArray(body && body.runs) ? body.runs : [];
      connection.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      connection.classList.remove('is-error');
      if (state.unauthorized) {
        state.unauthorized = false;
        byId('auth-banner').hidden = true;
      }
      const selected = state.runs.find((r) => r.id === state.selectedId);
      if (selected) applySummary(selected, false);
      chooseDefault();
      renderRuns();
    } catch (e) {
      connection.textContent = `Cannot load runs: ${e.message}`;
      connection.classList.add('is-error');
    } finally {
      state.refreshing = false;
      if (state.refreshQueued) {
        state.refreshQueued = false;
        refreshRuns();
      }
    }
  }

  /** Soon after a status event, so that a burst of events costs one request. */
  function refreshRunsSoon() {
    if (state.statusRefreshTimer) return;
    state.statusRefreshTimer = setTimeout(() => {
      state.statusRefreshTimer = null;
      refreshRuns();
    }, STATUS_REFRESH_DELAY_MS);
  }

  /** Without an explicit choice: the newest running run, else the newest run. */
  function chooseDefault() {
    if (state.explicit || state.runs.length === 0) return;
    const pick = state.runs.find((r) => r.status === 'running') || state.runs[0];
    if (pick.id === state.selectedId) return;
    const current = state.runs.find((r) => r.id === state.selectedId);
    // Follow a newly started run, but never leave one that is still active.
    if (!current || !ACTIVE.has(current.status)) select(pick.id, false);
  }

  let runsRenderPending = false;

  function scheduleRunsRender() {
    if (runsRenderPending) return;
    runsRenderPending = true;
    requestAnimationFrame(() => {
      runsRenderPending = false;
      renderRuns();
    });
  }

  function renderRuns() {
    const body = byId('runs-body');
    byId('runs-empty').hidden = state.runs.length > 0;
    const rows = [];
    for (const run of state.runs) {
      const tr = document.createElement('tr');
      tr.dataset.runId = run.id;
      tr.dataset.status = run.status || '';
      const selected = run.id === state.selectedId;
      tr.dataset.selected = String(selected);
      if (selected) tr.className = 'is-selected';
      tr.title = run.created ? `Created ${fmtTime(run.created)}` : '';

      const idCell = document.createElement('td');
      idCell.className = 'run-id';
      const link = document.createElement('button');
      link.type = 'button';
      link.className = 'run-link';
      link.textContent = run.id;
      if (selected) link.setAttribute('aria-current', 'true');
      idCell.appendChild(link);

      const statusCell = document.createElement('td');
      statusCell.appendChild(badge(run.status));

      const stepCell = document.createElement('td');
      stepCell.className = 'num';
      stepCell.textContent = fmtStep(run.step, run.totalSteps);

      const quantileCell = document.createElement('td');
      quantileCell.className = 'num';
      quantileCell.textContent = fmt(run.eval && run.eval.quantileVsReference);

      tr.append(idCell, statusCell, stepCell, quantileCell);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  function badge(status) {
    const span = document.createElement('span');
    span.className = 'badge';
    span.dataset.status = status || '';
    span.textContent = status || 'unknown';
    return span;
  }

  // ---------------------------------------------------------------- selection

  function hashRunId() {
    const match = /^#?run=(.+)$/.exec(location.hash);
    if (!match) return null;
    try {
      return decodeURIComponent(match[1]);
    } catch (e) {
      return null;
    }
  }

  function select(id, explicit) {
    state.explicit = explicit;
    if (id === state.selectedId) return;
    closeStreams();
    state.generation++;
    state.selectedId = id;
    state.metrics.clear();
    state.evals.clear();
    state.latest = { metrics: null, eval: null };
    state.notFound = false;
    state.summaryFetch = null;
    state.summary = state.runs.find((r) => r.id === id) || null;
    byId('action-message').textContent = '';
    renderHeader();
    renderRuns();
    scheduleDraw();
    if (id === null) return;
    openStreams();
    if (!state.summary) fetchSummary().catch(() => {});
  }

  /**
   * GET /runs/ID of the selected run, applied when it arrives; callers at the same time share one
   * request. A 404 marks the run as not found.
   */
  function fetchSummary() {
    if (state.summaryFetch) return state.summaryFetch;
    const generation = state.generation;
    const promise = request('GET', runPath(state.selectedId)).then(
      (s) => {
        if (generation === state.generation && s) applySummary(s, false);
        return s;
      },
      (e) => {
        if (generation === state.generation && e.status === 404) {
          state.notFound = true;
          renderHeader();
        }
        throw e;
      },
    ).finally(() => {
      if (state.summaryFetch === promise) state.summaryFetch = null;
    });
    state.summaryFetch = promise;
    return promise;
  }

  /** Takes a newer summary of some run; for the selected run, updates the header and streams. */
  function applySummary(s, fromStream) {
    if (!s || typeof s.id !== 'string') return;
    const index = state.runs.findIndex((r) => r.id === s.id);
    if (index >= 0) state.runs[index] = s;
    if (s.id !== state.selectedId) return;
    const before = state.summary && state.summary.status;
    // A run leaves 'stopping' only for 'stopped': a 'stopping' after an end is a stale answer (the
    // stop request's, overtaken by the stream) and must not reopen the streams.
    if (s.status === 'stopping' && TERMINAL.has(before)) return;
    state.summary = s;
    state.notFound = false;
    if (ACTIVE.has(s.status) && !state.streams.metrics && !state.reconnect.metrics
        && !state.streams.eval && !state.reconnect.eval) {
      // Active again (resumed here, or elsewhere) while nothing listens: listen again.
      openStreams();
    }
    renderHeader();
    if (fromStream) {
      renderRuns();
      if (before !== s.status) refreshRunsSoon();
    }
  }

  // ---------------------------------------------------------------- streams

  function closeStreams() {
    for (const kind of ['metrics', 'eval']) {
      if (state.streams[kind]) state.streams[kind].close();
      state.streams[kind] = null;
      clearTimeout(state.reconnect[kind]);
      state.reconnect[kind] = null;
      state.backoff[kind] = RECONNECT_MIN_MS;
    }
    renderStreamState();
  }

  function openStreams() {
    openStream('metrics');
    openStream('eval');
  }

  /**
   * The first step to ask for: after the last one we have, but no later than the step after the
   * checkpoint, since a resumed run redoes (and rewrites) the steps after its checkpoint.
   */
  function sinceFor(series) {
    if (series.size === 0) return 0;
    let since = series.lastStep + 1;
    const checkpoint = state.summary && state.summary.checkpointStep;
    if (Number.isInteger(checkpoint) && checkpoint + 1 < since) since = Math.max(0, checkpoint + 1);
    return since;
  }

  function openStream(kind) {
    const id = state.selectedId;
    if (id === null || state.streams[kind]) return;
    clearTimeout(state.reconnect[kind]);
    state.reconnect[kind] = null;
    const generation = state.generation;
    const series = kind === 'metrics' ? state.metrics : state.evals;
    const source = new EventSource(`${runPath(id)}/${kind}?since=${sinceFor(series)}`);
    state.streams[kind] = source;
    const current = () => generation === state.generation && state.streams[kind] === source;

    source.addEventListener('open', () => {
      if (!current()) return;
      state.backoff[kind] = RECONNECT_MIN_MS;
      renderStreamState();
    });
    source.addEventListener(kind, (event) => {
      if (!current()) return;
      let line;
      try {
        line = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (!series.upsert(line)) return;
      state.latest[kind] = line;
      // keep the selected run's row in the runs table as current as the header
      const row = state.runs.find((r) => r.id === id);
      if (row) {
        if (kind === 'metrics' && Number.isFinite(line.step) && line.step >= (row.step || 0)) {
          row.step = line.step;
        }
        if (kind === 'eval' && (!row.eval || !(line.step < row.eval.step))) row.eval = line;
        scheduleRunsRender();
      }
      dataChanged();
    });
    source.addEventListener('status', (event) => {
      if (!current()) return;
      try {
        applySummary(JSON.parse(event.data), true);
      } catch (e) {
        // ignore a malformed status event
      }
    });
    // Fired both when the server completes the stream and when the connection breaks. Either way
    // this EventSource is closed here so that the browser does not reconnect on its own.
    source.addEventListener('error', () => {
      source.close();
      if (!current()) return;
      state.streams[kind] = null;
      renderStreamState();
      streamEnded(kind, generation);
    });
    renderStreamState();
  }

  async function streamEnded(kind, generation) {
    if (state.notFound) return;
    if (state.summary && TERMINAL.has(state.summary.status)) return; // the run ended: done
    let summary = null;
    try {
      summary = await fetchSummary();
    } catch (e) {
      if (generation !== state.generation || e.status === 404 || e.status === 401) return;
    }
    if (generation !== state.generation) return;
    if (summary && TERMINAL.has(summary.status)) return;
    if (state.streams[kind] || state.reconnect[kind]) return;
    // Still active (or unknown): the connection broke. Try again later, backing off.
    const delay = state.backoff[kind];
    state.backoff[kind] = Math.min(RECONNECT_MAX_MS, delay * 2);
    state.reconnect[kind] = setTimeout(() => {
      state.reconnect[kind] = null;
      if (generation === state.generation) openStream(kind);
    }, delay);
    renderStreamState();
  }

  function renderStreamState() {
    const el = byId('stream-state');
    const open = ['metrics', 'eval'].filter((k) => state.streams[k]);
    const waiting = ['metrics', 'eval'].some((k) => state.reconnect[k]);
    el.classList.toggle('is-live', open.length > 0);
    el.textContent = open.length > 0 ? 'live' : waiting ? 'reconnecting…' : '';
  }

  // ---------------------------------------------------------------- header and buttons

  function renderHeader() {
    const s = state.summary;
    const id = state.selectedId;
    byId('run-title').textContent = id === null ? 'No run selected' : id;
    const statusEl = byId('run-status');
    const status = s ? s.status || '' : state.notFound ? 'not found' : '';
    statusEl.textContent = status || '—';
    statusEl.dataset.status = state.notFound ? 'failed' : status;
    byId('run-created').textContent = s && s.created ? `Created ${fmtTime(s.created)}` : '';

    const lastMetrics = state.latest.metrics || (s && s.metrics) || null;
    const lastEval = state.latest.eval || (s && s.eval) || null;
    const step = state.latest.metrics ? state.latest.metrics.step : s ? s.step : null;
    byId('run-step').textContent = id === null || state.notFound ? '—' : fmtStep(step, s ? s.totalSteps : null);
    byId('run-reward').textContent = fmt(lastMetrics && lastMetrics.rewardMean);
    byId('run-quantile').textContent = fmt(lastEval && lastEval.quantileVsReference);
    byId('run-kl').textContent = fmt(lastEval && lastEval.klReference);
    byId('run-bon').textContent = lastEval && isNum(lastEval.bestOfNEquivalent)
      ? `N ≈ ${fmt(lastEval.bestOfNEquivalent, 2)}` : '—';
    byId('run-checkpoint').textContent = s && Number.isInteger(s.checkpointStep)
      ? `step ${s.checkpointStep}` : '—';

    const error = byId('run-error');
    const message = state.notFound ? `Run ${id} was not found.` : s && s.error ? s.error : '';
    error.textContent = message;
    error.hidden = !message;

    const report = byId('report-link');
    if (id !== null && !state.notFound) {
      report.href = `${runPath(id)}/report/`;
      report.hidden = false;
      report.removeAttribute('aria-disabled');
    } else {
      report.hidden = true;
    }
    renderButtons();
  }

  function renderButtons() {
    const s = state.summary;
    const busy = state.actionPending;
    byId('stop-button').disabled = busy || !s || !STOPPABLE.has(s.status);
    byId('resume-button').disabled = busy || !s || s.resumable !== true;
  }

  async function runAction(action) {
    const id = state.selectedId;
    if (id === null || state.actionPending) return;
    const message = byId('action-message');
    state.actionPending = true;
    renderButtons();
    message.classList.remove('is-error');
    message.textContent = action === 'stop' ? 'Stopping…' : 'Resuming…';
    const generation = state.generation;
    try {
      const summary = await request('POST', `${runPath(id)}/${action}`);
      if (generation !== state.generation) return;
      message.textContent = action === 'stop' ? 'Stop requested.' : 'Resumed.';
      if (action === 'resume') {
        // The run starts again from its checkpoint: listen again, from the redone steps.
        closeStreams();
        state.latest = { metrics: null, eval: null };
        if (summary) state.summary = summary;
      }
      if (summary) applySummary(summary, true);
      if (action === 'resume') openStreams();
      refreshRunsSoon();
    } catch (e) {
      if (generation !== state.generation) return;
      message.classList.add('is-error');
      message.textContent = `${action === 'stop' ? 'Stop' : 'Resume'} failed: ${e.message}`;
    } finally {
      state.actionPending = false;
      if (generation === state.generation) renderButtons();
    }
  }

  // ---------------------------------------------------------------- plots

  function stepRange() {
    const total = state.summary && state.summary.totalSteps;
    const last = Math.max(state.metrics.lastStep, state.evals.lastStep, 1);
    const x1 = Number.isInteger(total) && total > 0 ? Math.max(total, last) : last;
    return [0, x1];
  }

  function column(series, pick) {
    const out = new Array(series.size);
    for (let i = 0; i < series.size; i++) {
      const v = pick(series.lines[i]);
      out[i] = typeof v === 'number' ? v : NaN;
    }
    return out;
  }

  function countFinite(xs, ys) {
    let n = 0;
    for (let i = 0; i < xs.length; i++) if (isNum(xs[i]) && isNum(ys[i])) n++;
    return n;
  }

  function lastFinite(values) {
    for (let i = values.length - 1; i >= 0; i--) if (isNum(values[i])) return values[i];
    return null;
  }

  function frontierModel() {
    const e = state.evals;
    const xs = column(e, (l) => l.klReference);
    const ys = column(e, (l) => l.quantileVsReference);
    const steps = e.steps;
    const count = countFinite(xs, ys);
    const ex = extent(xs);
    const ey = extent(ys);
    // At least up to N = 4 of Best-of-N, and past the run's points.
    const x0 = Math.min(0, ex ? ex[0] : 0);
    let x1 = Math.max(0.75, ex ? ex[1] * 1.15 : 0);
    if (ex && ex[0] < 0) x1 = Math.max(x1, x0 + bonKl(4));
    let bonTop = 0.5;
    for (let i = 0; i < BON_CURVE.xs.length && BON_CURVE.xs[i] <= x1; i++) bonTop = BON_CURVE.ys[i];
    const yLow = Math.min(0.5, ey ? ey[0] : 0.5);
    const yHigh = Math.max(bonTop, ey ? ey[1] : 0.5);
    const pad = (yHigh - yLow) * 0.06;
    const y = [Math.max(0, yLow - pad), Math.min(1, yHigh + pad)];
    const labels = [];
    for (const n of BON_LABELS) {
      const lx = bonKl(n);
      if (lx <= x1) labels.push({ x: lx, y: bonQuantile(n), text: `N=${n}`, color: COLORS.reference });
    }
    return {
      x: [x0, x1],
      y,
      integerX: false,
      xLabel: 'KL to reference (nats)',
      yLabel: 'quantile vs reference',
      count,
      latest: count ? `quantile ${fmt(lastFinite(ys))} at KL ${fmt(lastFinite(xs))}` : '',
      empty: 'Waiting for evaluations…',
      emptyAt: 0.8,
      labels,
      series: [
        { xs: BON_CURVE.xs, ys: BON_CURVE.ys, color: COLORS.reference, width: 1.4, dash: [6, 4] },
        {
          xs, ys, color: COLORS.frontier, width: 1.8, markers: true, highlightLast: true, hover: true,
          describe: (i) => `step ${steps[i]}: KL ${fmt(xs[i])}, quantile ${fmt(ys[i])}`,
        },
      ],
    };
  }

  function quantileModel() {
    const e = state.evals;
    const xs = e.steps;
    const ys = column(e, (l) => l.quantileVsReference);
    const count = countFinite(xs, ys);
    const ey = extent(ys);
    const lo = Math.min(0.5, ey ? ey[0] : 0.5);
    const hi = Math.max(0.5, ey ? ey[1] : 0.6);
    const [y0, y1] = padRange(lo, Math.max(hi, lo + 0.1), 0.08);
    const [x0, x1] = stepRange();
    return {
      x: [x0, x1],
      y: [Math.max(0, y0), Math.min(1, y1)],
      integerX: true,
      xLabel: 'training step',
      yLabel: 'quantile vs reference',
      count,
      latest: count ? fmt(lastFinite(ys)) : '',
      empty: 'Waiting for evaluations…',
      series: [
        { xs: [x0, x1], ys: [0.5, 0.5], color: '#9aa1ab', width: 1, dash: [4, 4] },
        {
          xs, ys, color: COLORS.quantile, width: 1.8, markers: 'auto', sorted: true, hover: true,
          describe: (i) => `step ${xs[i]}: quantile ${fmt(ys[i])}`,
        },
      ],
    };
  }

  function stepModel(pick, options) {
    const m = state.metrics;
    const xs = m.steps;
    const ys = column(m, pick);
    const count = countFinite(xs, ys);
    const ey = extent(ys);
    let y;
    if (!ey) y = options.zeroBased ? [0, 1] : [-1, 1];
    else if (options.zeroBased) y = [0, Math.max(ey[1], 1e-9) * 1.1];
    else y = padRange(ey[0], ey[1], 0.08);
    return {
      x: stepRange(),
      y,
      integerX: true,
      xLabel: 'training step',
      yLabel: options.yLabel,
      count,
      latest: count ? options.format(lastFinite(ys)) : '',
      empty: 'Waiting for training steps…',
      series: [
        {
          xs, ys, color: options.color, width: 1.5, markers: 'auto', markerRadius: 2.2,
          sorted: true, hover: true,
          describe: (i) => `step ${xs[i]}: ${options.format(ys[i])}`,
        },
      ],
    };
  }

  const plots = [];
  let drawQueued = false;

  function scheduleDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      for (const plot of plots) plot.draw();
    });
  }

  let headerQueued = false;

  function dataChanged() {
    scheduleDraw();
    if (headerQueued) return;
    headerQueued = true;
    requestAnimationFrame(() => {
      headerQueued = false;
      renderHeader();
    });
  }

  // ---------------------------------------------------------------- start

  function start() {
    plots.push(
      new Plot(byId('plot-frontier'), frontierModel),
      new Plot(byId('plot-quantile'), quantileModel),
      new Plot(byId('plot-reward'), () => stepModel((l) => l.rewardMean, {
        yLabel: 'mean reward', color: COLORS.reward, zeroBased: false, format: (v) => fmt(v),
      })),
      new Plot(byId('plot-steptime'), () => stepModel((l) => {
        const total = l.timings && l.timings.total;
        return isNum(total) ? total / 1000 : NaN;
      }, {
        yLabel: 'step time (s)', color: COLORS.stepTime, zeroBased: true, format: (v) => fmtSeconds(v * 1000),
      })),
    );
    if (typeof ResizeObserver === 'function') {
      const observer = new ResizeObserver(scheduleDraw);
      for (const plot of plots) observer.observe(plot.canvas);
    } else {
      window.addEventListener('resize', scheduleDraw);
    }

    byId('runs-body').addEventListener('click', (event) => {
      const row = event.target.closest('tr[data-run-id]');
      if (!row) return;
      const id = row.dataset.runId;
      const hash = `#run=${encodeURIComponent(id)}`;
      if (location.hash !== hash) location.hash = hash; // hashchange selects it
      else select(id, true);
    });
    window.addEventListener('hashchange', () => {
      const id = hashRunId();
      if (id !== null) {
        select(id, true);
      } else {
        state.explicit = false;
        chooseDefault();
      }
    });
    byId('stop-button').addEventListener('click', () => runAction('stop'));
    byId('resume-button').addEventListener('click', () => runAction('resume'));
    byId('sign-in-button').addEventListener('click', () => location.reload());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) refreshRuns();
    });

    const fromHash = hashRunId();
    if (fromHash !== null) select(fromHash, true);
    renderHeader();
    scheduleDraw();
    refreshRuns();
    state.pollTimer = setInterval(() => {
      if (!document.hidden) refreshRuns();
    }, POLL_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
