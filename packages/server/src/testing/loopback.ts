/**
 * Start a local fake of a national service (GOV.UK Notify, EPS) on loopback: keep track of its open
 * sockets (so a test can cut them, and stop closes them) and answer its base URL.
 */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export async function listenOnLoopback(server: Server, sockets: Set<Socket>, port = 0, refuse: () => boolean = () => false): Promise<string> {
  server.on('connection', (s) => {
    if (refuse()) {
      s.destroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
