extension JobReport {
    /// Draws the embedded data (`#report-data`, inflated) one task at a time, so that the page
    /// never stops answering for long: the timeline in SVG (a thousand rows at most, in tasks of
    /// 200; beyond that only the rows in view), the queue charts, the tables (500 rows at most).
    /// When done, `body[data-rendered]` is `done` and `#render-ms` holds the time since navigation
    /// began (the longest task in `data-longest-task-ms`). Opened as `…#timing`, it also logs each
    /// task's start and end to the console, whose wall-clock stamps `bench/report.sh` reads (headless
    /// Chromium's virtual time, which lets it wait for every task, stops the page's own clocks).
    /// A served page (`live`) fetches its data again every few seconds and draws it anew.
    static let script = #"""
        (async () => {
        'use strict';
        const WAIT = {SUBMITTED: '#c3c8cf', PENDING: '#b9a3dd', RUNNABLE: '#f2c14e'};
        const OUTCOME = {waiting: '#f2c14e', running: '#2f7fd1', succeeded: '#2e9e5b', retried: '#ef8a33', failed: '#d64545'};
        const KEPT = '#8e5ad6';
        // A row's height; the labels' width; rows drawn per task; the most rows drawn at once; the most rows of a table.
        const ROW = 16, LABEL = 240, ROWS_PER_TASK = 200, ALL_ROWS = 1000, SHOWN = 500;
        const $ = (id) => document.getElementById(id);
        const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]);
        const time = (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
        const clock = (ms) => new Date(ms).toISOString().slice(11, 19);
        const numbers = new Intl.NumberFormat('en-US');
        const num = (n) => numbers.format(n);
        const duration = (ms) => {
          const s = ms / 1000;
          if (s < 60) return s.toFixed(1) + ' s';
          if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
          return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
        };
        // Four decimals: a short job costs fractions of a cent.
        const dollars = (usd) => '$' + usd.toFixed(4);
        const count = (n, noun) => num(n) + ' ' + noun + (n === 1 ? '' : 's');
        const timing = location.hash === '#timing' ? (what) => console.log('sortie-report: ' + what) : () => {};
        timing('start');
        let data = null;
        let generation = 0;

        // Where to read a log: the S3 console for the runner's copy, else CloudWatch Logs' group and stream as text.
        function logLink(uri) {
          if (!uri) return '';
          const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
          if (!match) return `<span class="log">${esc(uri)}</span>`;
          const href = `https://${data.region}.console.aws.amazon.com/s3/object/${encodeURIComponent(match[1])}?region=${data.region}&prefix=${encodeURIComponent(match[2])}`;
          return `<a class="log" href="${esc(href)}">${esc(uri)}</a>`;
        }

        // A table from column definitions: [heading, value of a row as HTML, numeric?]; rows carry `attributes(row)`.
        function table(element, columns, rows, attributes, empty) {
          if (!rows.length) { element.innerHTML = `<tr><td class="empty">${esc(empty)}</td></tr>`; return; }
          const head = '<tr>' + columns.map((c) => `<th>${esc(c[0])}</th>`).join('') + '</tr>';
          element.innerHTML = head + rows.map((row) => `<tr ${attributes(row)}>` + columns.map((c) => `<td${c[2] ? ' class="n"' : ''}>${c[1](row)}</td>`).join('') + '</tr>').join('');
        }

        // Each job's history cut into attempts at each retry (FAILED → RUNNABLE), as the report's data numbers them.
        function spans(job, end) {
          const out = [];
          let attempt = 0;
          job.history.forEach((h, i) => {
            if (i === 0 || (h[0] === 'RUNNABLE' && job.history[i - 1][0] === 'FAILED')) attempt++;
            const next = job.history[i + 1];
            out.push({state: h[0], from: h[1], to: next ? next[1] : (h[0] === 'SUCCEEDED' || h[0] === 'FAILED' ? h[1] : end), attempt});
          });
          const first = job.attempts.length ? job.attempts[0].number : 1;
          for (const span of out) span.attempt += first - 1;
          return out;
        }

        function bounds() {
          let start = Infinity;
          for (const job of data.jobs) if (job.history.length) start = Math.min(start, job.history[0][1]);
          for (const file of data.files) start = Math.min(start, file.createdAt);
          if (!isFinite(start)) start = data.since;
          const end = Math.max(data.generatedAt, start + 1000);
          return [start, end];
        }

        // The time axis's ticks: about ten, at a round step.
        function ticks(start, end) {
          const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);
          const step = steps.find((s) => (end - start) / s <= 10) || 86400000;
          const out = [];
          for (let t = Math.ceil(start / step) * step; t <= end; t += step) out.push([t, step >= 86400000 ? time(t).slice(0, 10) : clock(t)]);
          return out;
        }

        function jobRow(job, index, x, end) {
          const y = index * ROW;
          const attemptOf = Object.fromEntries(job.attempts.map((a) => [a.number, a]));
          let shapes = `<rect class="row" x="0" y="0" width="100%" height="${ROW}" fill="transparent"></rect>`;
          shapes += `<text x="4" y="12">${esc(job.name)} <tspan fill="#8a93a0">${esc(job.id.slice(0, 8))}</tspan></text>`;
          for (const span of spans(job, end)) {
            const attempt = attemptOf[span.attempt] || {outcome: 'waiting'};
            const x1 = x(span.from), w = Math.max(2, x(span.to) - x1);
            if (WAIT[span.state]) {
              shapes += `<rect data-state="${span.state}" data-attempt="${span.attempt}" x="${x1}" y="6" width="${w}" height="5" fill="${WAIT[span.state]}"></rect>`;
            } else {
              const opacity = span.state === 'STARTING' ? ' fill-opacity="0.55"' : '';
              shapes += `<rect data-state="${span.state}" data-attempt="${span.attempt}" data-outcome="${attempt.outcome}" x="${x1}" y="2" width="${w}" height="12" fill="${OUTCOME[attempt.outcome]}"${opacity}></rect>`;
            }
          }
          for (const attempt of job.attempts) {
            if (!attempt.kept || attempt.endedAt == null) continue;
            const x1 = x(attempt.endedAt), w = Math.max(2, x(end) - x1);
            shapes += `<rect class="kept" data-instance="${esc(attempt.instanceID)}" x="${x1}" y="4" width="${w}" height="8" fill="none" stroke="${KEPT}" stroke-dasharray="3 2"></rect>`;
          }
          const story = job.attempts.map((a) => `attempt ${a.number}: ${a.outcome}${a.instanceID ? ' on ' + a.instanceID : ''}${a.reason ? ' — ' + a.reason : ''}${a.kept ? ' (instance kept, ' + a.kept + ')' : ''}`).join('\n');
          const waits = job.dependsOn ? `\nwaits for ${job.dependsOn.join(', ')}` : '';
          const title = `${job.name} ${job.id}: ${job.state}${job.reason ? ' — ' + job.reason : ''}${waits}\n${story}`;
          return `<g class="job" data-id="${esc(job.id)}" data-name="${esc(job.name)}" data-state="${job.state}" data-attempts="${job.attempts.length}" transform="translate(0,${y})"><title>${esc(title)}</title>${shapes}</g>`;
        }

        // The timeline: its axis, then its rows. Up to ALL_ROWS jobs are all drawn, ROWS_PER_TASK
        // rows per task; more are drawn as they scroll into view (the rows in sight and a margin), so
        // that 10,000 jobs cost the page no more than a thousand. Returns the tasks to run.
        function timelineTasks(mine) {
          const [start, end] = bounds();
          const width = Math.max(900, document.documentElement.clientWidth - 40);
          const x = (t) => (LABEL + (t - start) / (end - start) * (width - LABEL - 12)).toFixed(1);
          const marks = ticks(start, end);
          const axis = $('timeline-axis'), svg = $('timeline'), box = $('timeline-box');
          const height = Math.max(ROW, data.jobs.length * ROW);
          axis.setAttribute('width', width);
          axis.setAttribute('height', 16);
          axis.innerHTML = '<text x="0" y="11">UTC</text>' + marks.map(([t, label]) => `<text x="${Number(x(t)) + 2}" y="11">${label}</text>`).join('');
          svg.setAttribute('width', width);
          svg.setAttribute('height', height);
          svg.innerHTML = '<g class="axis">' + marks.map(([t]) => `<line x1="${x(t)}" x2="${x(t)}" y1="0" y2="${height}"></line>`).join('') + '</g><g id="rows"></g>';
          const rows = $('rows');
          const draw = (from, to) => {
            const out = [];
            for (let i = from; i < to; i++) out.push(jobRow(data.jobs[i], i, x, end));
            return out.join('');
          };
          if (data.jobs.length > ALL_ROWS) {
            const visible = () => {
              if (mine !== generation) return;
              const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 100);
              rows.innerHTML = draw(first, Math.min(data.jobs.length, first + Math.ceil(box.clientHeight / ROW) + 200));
            };
            let pending = false;
            box.onscroll = () => { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; visible(); }); } };
            return [visible];
          }
          box.onscroll = null;
          const tasks = [];
          for (let from = 0; from < data.jobs.length; from += ROWS_PER_TASK) {
            tasks.push(() => rows.insertAdjacentHTML('beforeend', draw(from, Math.min(data.jobs.length, from + ROWS_PER_TASK))));
          }
          return tasks;
        }

        // Queue depth (RUNNABLE) and running count (STARTING or RUNNING) of each job name over time,
        // against its max_concurrency. Each line is drawn per pixel column, at the most that column saw,
        // so its size is the chart's width whatever the number of jobs; the peaks are exact. The jobs
        // are read ROWS_PER_TASK * 10 per task, then the charts drawn. Returns the tasks to run.
        function queueTasks() {
          const [start, end] = bounds();
          const byName = new Map();
          const tasks = [];
          const step = ROWS_PER_TASK * 10;
          for (let from = 0; from < data.jobs.length; from += step) {
            tasks.push(function readQueues() {
              for (const job of data.jobs.slice(from, from + step)) {
                if (!byName.has(job.name)) byName.set(job.name, {queued: [], running: []});
                const events = byName.get(job.name);
                for (const span of spans(job, end)) {
                  if (span.to <= span.from) continue;
                  const kind = span.state === 'RUNNABLE' ? 'queued' : (span.state === 'STARTING' || span.state === 'RUNNING') ? 'running' : null;
                  if (kind) events[kind].push([span.from, 1], [span.to, -1]);
                }
              }
            });
          }
          tasks.push(() => drawQueues(byName, start, end));
          return tasks;
        }

        function drawQueues(byName, start, end) {
          const width = 420, height = 90, left = 28, columns = width - left - 4;
          const column = (t) => Math.min(columns - 1, Math.floor((t - start) / (end - start) * columns));
          // The most at once in each pixel column, and overall.
          const series = (events) => {
            events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
            const most = new Array(columns).fill(0);
            let level = 0, peak = 0, at = 0;
            for (const [t, delta] of events) {
              const c = column(t);
              for (; at < c; at++) most[at] = Math.max(most[at], level);
              most[c] = Math.max(most[c], level);
              level += delta;
              most[c] = Math.max(most[c], level);
              peak = Math.max(peak, level);
            }
            for (; at < columns; at++) most[at] = Math.max(most[at], level);
            return {most, peak};
          };
          const charts = [...byName.keys()].sort().map((name) => {
            const queued = series(byName.get(name).queued), running = series(byName.get(name).running);
            const limit = data.limits[name];
            const top = Math.max(1, queued.peak, running.peak, limit || 0);
            const y = (v) => (height - 14 - v / top * (height - 24)).toFixed(1);
            const line = (kind, values, colour) => {
              const points = [];
              values.forEach((v, i) => { if (i === 0 || v !== values[i - 1]) points.push(`${left + i},${y(i === 0 ? v : values[i - 1])}`, `${left + i},${y(v)}`); });
              points.push(`${left + columns},${y(values[columns - 1])}`);
              return `<polyline class="${kind}" fill="none" stroke="${colour}" stroke-width="1.5" points="${points.join(' ')}"></polyline>`;
            };
            const ceiling = limit ? `<line class="limit" x1="${left}" x2="${width - 4}" y1="${y(limit)}" y2="${y(limit)}" stroke="#d64545" stroke-dasharray="4 3"></line><text x="${width - 120}" y="${Number(y(limit)) - 3}" fill="#d64545">max_concurrency ${limit}</text>` : '';
            return `<div class="queue" data-name="${esc(name)}" data-peak-running="${running.peak}" data-peak-queued="${queued.peak}" data-limit="${limit || ''}"><h3>${esc(name)}: at most ${running.peak} running, ${queued.peak} queued</h3>` +
              `<svg width="${width}" height="${height}"><text x="0" y="${y(top)}">${top}</text><text x="0" y="${y(0)}">0</text><line x1="${left}" x2="${width - 4}" y1="${y(0)}" y2="${y(0)}" stroke="#dde2e8"></line>${ceiling}${line('queued', queued.most, '#e0a800')}${line('running', running.most, '#2f7fd1')}</svg></div>`;
          });
          $('queues').innerHTML = charts.length ? charts.join('') : '<p class="empty">No jobs in this window.</p>';
        }

        function drawNames() {
          const end = data.generatedAt;
          // By job name: what ran, for how long, and what it cost (attempts with no known price counted apart).
          const names = new Map();
          for (const job of data.jobs) {
            const row = names.get(job.name) || {name: job.name, jobs: 0, attempts: 0, succeeded: 0, failed: 0, retried: 0, active: 0, waiting: 0, instanceMs: 0, usd: 0, unpriced: 0};
            row.jobs++;
            row.attempts += job.attempts.length;
            if (job.state === 'SUCCEEDED') row.succeeded++;
            else if (job.state === 'FAILED') row.failed++;
            else if (job.state === 'STARTING' || job.state === 'RUNNING') row.active++;
            else row.waiting++;
            for (const a of job.attempts) {
              if (a.outcome === 'retried') row.retried++;
              if (a.startedAt != null) row.instanceMs += (a.endedAt != null ? a.endedAt : end) - a.startedAt;
              if (a.usd != null) row.usd += a.usd;
              else if (a.instanceID) row.unpriced++;
            }
            names.set(job.name, row);
          }
          const nameColumns = [
            ['job', (r) => esc(r.name)], ['jobs', (r) => num(r.jobs), true], ['attempts', (r) => num(r.attempts), true],
            ['succeeded', (r) => num(r.succeeded), true], ['failed', (r) => num(r.failed), true], ['retried attempts', (r) => num(r.retried), true],
            ['running', (r) => num(r.active), true], ['waiting', (r) => num(r.waiting), true], ['instance time', (r) => duration(r.instanceMs), true],
            ['max_concurrency', (r) => data.limits[r.name] == null ? '?' : num(data.limits[r.name]), true],
            ['cost (USD)', (r) => r.unpriced ? `${dollars(r.usd)} + ${num(r.unpriced)} unknown` : dollars(r.usd), true],
          ];
          table($('names'), nameColumns, [...names.values()].sort((a, b) => a.name < b.name ? -1 : 1), (r) => `data-name="${esc(r.name)}"`, 'No jobs in this window.');
        }

        function drawFiles() {
          const fileStates = {};
          for (const file of data.files) fileStates[file.state] = (fileStates[file.state] || 0) + 1;
          $('file-summary').innerHTML = Object.keys(fileStates).sort().map((s) => `<li data-state="${s}"><b>${fileStates[s]}</b>${s}</li>`).join('');
          const route = (file, name) => file.routes.find((r) => r.route === name);
          const routeCell = (name) => (file) => {
            const r = route(file, name);
            return r ? `${r.done}/${r.chunks} chunks${r.failed ? `, <b>${r.failed} failed</b>` : ''}; ${num(r.records)} records: ${num(r.delivered)} delivered, ${num(r.rejected)} rejected` : '';
          };
          const progress = (file) => {
            const delivered = file.routes.reduce((s, r) => s + r.delivered, 0), rejected = file.routes.reduce((s, r) => s + r.rejected, 0);
            const part = (n, colour) => `<i style="width:${file.records ? (100 * n / file.records).toFixed(1) : 0}%;background:${colour}"></i>`;
            return `<span class="bar">${part(delivered, '#2e9e5b')}${part(rejected, '#ef8a33')}</span>`;
          };
          const fileColumns = [
            ['file', (f) => `<code>${esc(f.object)}</code>`], ['feed', (f) => esc(f.feed)], ['state', (f) => esc(f.state)], ['created', (f) => time(f.createdAt)],
            ['records', (f) => num(f.records), true], ['delivered / rejected', progress], ['lambda', routeCell('lambda')], ['batch', routeCell('batch')],
            ['took', (f) => f.completedAt ? duration(f.completedAt - f.createdAt) : ''],
          ];
          table($('files'), fileColumns, data.files.slice(-SHOWN).reverse(), (f) => `data-id="${esc(f.id)}" data-state="${esc(f.state)}"`, 'No files in this window.');
          $('files-more').textContent = data.files.length > SHOWN ? `… and ${num(data.files.length - SHOWN)} older files` : '';

        }

        // Every attempt that failed, retried or not: when, why, and its log; every failed chunk.
        function drawFailures() {
          const failed = [];
          for (const job of data.jobs) for (const a of job.attempts) if (a.outcome === 'failed' || a.outcome === 'retried') failed.push({job, a});
          failed.sort((p, q) => (q.a.endedAt || 0) - (p.a.endedAt || 0));
          const attemptColumns = [
            ['ended', (r) => r.a.endedAt ? time(r.a.endedAt) : ''], ['job', (r) => esc(r.job.name)], ['id', (r) => `<code>${esc(r.job.id)}</code>`],
            ['attempt', (r) => r.a.number, true], ['outcome', (r) => r.a.outcome === 'retried' ? 'FAILED, retried' : 'FAILED'],
            ['reason', (r) => `<span class="reason">${esc(r.a.reason || r.job.reason || '')}</span>`],
            ['instance', (r) => esc([r.a.instanceID, r.a.instanceType, r.a.market].filter(Boolean).join(' '))],
            ['cost (USD)', (r) => r.a.usd == null ? (r.a.instanceID ? 'unknown' : '') : dollars(r.a.usd), true],
            ['log', (r) => logLink(r.a.log) + (r.a.number === r.job.attempts[r.job.attempts.length - 1].number ? `<br><code>sortie logs ${esc(r.job.id)}</code>` : '')],
          ];
          $('failures-more').textContent = failed.length > SHOWN ? `… and ${num(failed.length - SHOWN)} older failed attempts` : '';
          table($('failures'), attemptColumns, failed.slice(0, SHOWN), (r) => `data-id="${esc(r.job.id)}" data-attempt="${r.a.number}" data-outcome="${r.a.outcome}"`, 'No failed attempts.');
          const chunks = [];
          for (const file of data.files) for (const c of file.failures) chunks.push({file, c});
          const chunkColumns = [
            ['file', (r) => `<code>${esc(r.file.object)}</code>`], ['chunk', (r) => r.c.index, true], ['route', (r) => esc(r.c.route)],
            ['attempts', (r) => r.c.attempts, true], ['reason', (r) => `<span class="reason">${esc(r.c.reason)}</span>`], ['ran by', (r) => esc(r.c.ranBy || '')],
            ['redrive', (r) => r.file.state === 'FAILED' ? `<code>sortie redrive ${esc(r.file.id)}</code>` : ''],
          ];
          table($('chunk-failures'), chunkColumns, chunks, (r) => `data-id="${esc(r.file.id)}" data-chunk="${r.c.index}" data-state="FAILED"`, 'No failed chunks.');
        }

        function drawHeader() {
          const states = {};
          for (const job of data.jobs) states[job.state] = (states[job.state] || 0) + 1;
          const order = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED'];
          const attempts = data.jobs.reduce((s, j) => s + j.attempts.length, 0);
          $('window').textContent = `${count(data.jobs.length, 'job')} (${count(attempts, 'attempt')}) and ${count(data.files.length, 'file')} since ${time(data.since)}; generated ${time(data.generatedAt)}${data.live ? ' · live' : ''}`;
          $('summary').innerHTML = order.filter((s) => states[s]).map((s) => `<li data-state="${s}"><b>${states[s]}</b>${s}</li>`).join('');
          $('legend').innerHTML = [['waiting: SUBMITTED', WAIT.SUBMITTED], ['PENDING', WAIT.PENDING], ['RUNNABLE', WAIT.RUNNABLE], ['running', OUTCOME.running],
            ['succeeded', OUTCOME.succeeded], ['failed, retried', OUTCOME.retried], ['failed', OUTCOME.failed], ['instance kept', KEPT]]
            .map(([label, colour]) => `<span><i style="background:${colour}"></i>${label}</span>`).join('');
        }

        // Draws it all, one task at a time (a newer drawing stops an older one's).
        function render() {
          const mine = ++generation;
          // The first drawing counts from navigation's start (parsing the data included), a live one from its own.
          const since = mine === 1 ? 0 : performance.now();
          let longestTask = 0;
          document.body.dataset.rendered = 'no';
          const tasks = [drawHeader, ...timelineTasks(mine), ...queueTasks(), drawNames, drawFiles, drawFailures];
          const next = () => {
            if (mine !== generation) return;
            const task = tasks.shift();
            timing('task-begin ' + (task.name || 'timeline rows or queue charts'));
            const began = performance.now();
            task();
            longestTask = Math.max(longestTask, performance.now() - began);
            timing('task-end');
            if (tasks.length) { setTimeout(next, 0); return; }
            $('render-ms').textContent = (performance.now() - since).toFixed(0);
            document.body.dataset.longestTaskMs = longestTask.toFixed(0);
            document.body.dataset.rendered = 'done';
            timing('done');
          };
          next();
        }

        // The embedded data: zlib-compressed JSON in base64 (JobReport.embedded).
        async function embedded() {
          const text = atob($('report-data').textContent.trim());
          const bytes = new Uint8Array(text.length);
          for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
          const json = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'))).text();
          timing('task-begin parsing the data');
          const parsed = JSON.parse(json);
          timing('task-end');
          return parsed;
        }

        data = await embedded();
        render();
        if (data.live) {
          setInterval(async () => {
            try {
              const response = await fetch(data.live, {cache: 'no-store'});
              if (response.ok) { data = await response.json(); render(); }
            } catch (e) { /* sortie dev stopped: keep the last picture */ }
          }, 3000);
        }
        })();
        """#
}
