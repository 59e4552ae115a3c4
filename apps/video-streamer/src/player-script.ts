/**
 * The player page's script, served as `/player.js` (the page's CSP allows
 * scripts from this server only, none inline). Plain ES2017, no build step:
 * it is what the browser runs, as printed.
 *
 * The network panel. A page cannot read the request headers of a
 * <video>'s own loads (Range included), but the browser records each one in
 * Resource Timing: when it started, how long it took, its status and body
 * bytes (0 and status 0 for a load it cancelled, as Chrome does with the
 * `bytes=0-` it was reading when a seek asks for `bytes=N-`). A
 * PerformanceObserver adds a row per request as it completes; the media
 * element's events (progress, waiting, stalled, seeking, …) give the
 * buffered ranges, the stalls and a timeline.
 */
export const PLAYER_SCRIPT = `'use strict';
(function () {
  var video = document.getElementById('player');
  if (!video) return;
  var src = new URL(video.getAttribute('src'), location.href).href;
  var rows = document.getElementById('requests');
  var log = document.getElementById('events');
  var summary = document.getElementById('summary');
  var count = 0, bytes = 0, busy = 0, stalls = 0;
  var t0 = performance.now();
  var ms = function (t) { return (t / 1000).toFixed(2) + ' s'; };
  var size = function (n) {
    return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(2) + ' MiB';
  };
  var cell = function (tr, text) { var td = document.createElement('td'); td.textContent = text; tr.appendChild(td); };

  function request(e) {
    if (e.name !== src) return;
    count++;
    var tr = document.createElement('tr');
    tr.dataset.status = String(e.responseStatus || 0);
    tr.dataset.bytes = String(e.encodedBodySize);
    cell(tr, String(count));
    cell(tr, ms(e.startTime));
    cell(tr, e.duration.toFixed(1) + ' ms');
    cell(tr, e.responseStatus ? String(e.responseStatus) : 'cancelled');
    cell(tr, size(e.encodedBodySize));
    cell(tr, e.duration > 0 && e.encodedBodySize > 0
      ? (e.encodedBodySize * 8 / e.duration / 1000).toFixed(1) + ' Mbit/s' : '');
    rows.appendChild(tr);
    bytes += e.encodedBodySize;
    busy += e.duration;
    update();
  }

  function buffered() {
    var b = video.buffered, out = [];
    for (var i = 0; i < b.length; i++) out.push(b.start(i).toFixed(1) + '-' + b.end(i).toFixed(1) + ' s');
    return out.join(', ') || 'nothing';
  }

  function update() {
    summary.textContent = count + ' requests, ' + size(bytes) + ' received' +
      (busy > 0 ? ', ' + (bytes * 8 / busy / 1000).toFixed(1) + ' Mbit/s while loading' : '') +
      '; buffered ' + buffered() + '; ' + stalls + ' stalls; at ' + video.currentTime.toFixed(1) + ' s';
  }

  function event(e) {
    if (e.type === 'waiting' || e.type === 'stalled') stalls++;
    var li = document.createElement('li');
    li.textContent = ms(performance.now() - t0) + ' ' + e.type +
      (e.type === 'seeking' ? ' to ' + video.currentTime.toFixed(1) + ' s' : '') +
      (e.type === 'error' && video.error ? ' (code ' + video.error.code + ')' : '');
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 50) log.removeChild(log.lastChild);
    update();
  }

  performance.setResourceTimingBufferSize(1000);
  new PerformanceObserver(function (list) { list.getEntries().forEach(request); })
    .observe({ type: 'resource', buffered: true });
  ['loadedmetadata', 'canplay', 'playing', 'pause', 'waiting', 'stalled', 'seeking', 'seeked', 'ended', 'error']
    .forEach(function (type) { video.addEventListener(type, event); });
  ['progress', 'timeupdate'].forEach(function (type) { video.addEventListener(type, update); });
  update();
})();
`;
