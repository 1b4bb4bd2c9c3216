/**
 * The pages' script (served as `/web/live.js`, after socket.io's own client script from
 * `/socket.io/socket.io.js`): connects, shows the live status in `#live-status`, and says so
 * when the server ends the connection because the session ended.
 */
export const LIVE_SCRIPT = `(() => {
  const status = document.getElementById('live-status');
  if (!status || typeof io !== 'function') return;
  const socket = io({ transports: ['websocket'] });
  socket.on('status', (s) => {
    status.textContent = s.user ? 'Live: connected as ' + s.user : 'Live: connected, not signed in';
    status.dataset.state = 'connected';
  });
  socket.on('disconnect', (reason) => {
    if (reason !== 'io server disconnect') return;
    status.textContent = 'You were signed out (on another tab or device).';
    status.dataset.state = 'signed-out';
  });
})();
`;
