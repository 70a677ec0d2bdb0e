// Loaded with `node --import` into every process the drill starts: if the drill itself dies (even by
// kill -9, which gives it no chance to clean up), its hub and nodes do not live on as orphans holding
// ports and database connections; each notices its parent has gone and ends itself.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 500).unref();
