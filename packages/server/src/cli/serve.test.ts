import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MLLP_PORT, parseLab, parsePort } from './serve.ts';

test('ports: a default when absent, 0 allowed (turns a listener off), nonsense refused with the flag named', () => {
  assert.equal(parsePort(undefined, '--mllp-port', DEFAULT_MLLP_PORT), 2575);
  assert.equal(parsePort('0', '--mllp-port', DEFAULT_MLLP_PORT), 0);
  assert.equal(parsePort('12575', '--mllp-port', DEFAULT_MLLP_PORT), 12575);
  assert.throws(() => parsePort('70000', '--mllp-port', DEFAULT_MLLP_PORT), /--mllp-port "70000" is not a port number/);
  assert.throws(() => parsePort('http', '--port', 8080), /--port "http"/);
});

test('--lab takes NAME@HOST:PORT or HOST:PORT and names the expected form when wrong', () => {
  assert.deepEqual(parseLab('leeds-path@127.0.0.1:2576'), { name: 'leeds-path', host: '127.0.0.1', port: 2576 });
  assert.deepEqual(parseLab('lab.example:2575'), { name: 'laboratory', host: 'lab.example', port: 2575 });
  assert.throws(() => parseLab('lab.example'), /NAME@HOST:PORT/);
  assert.deepEqual(parseLab('leeds-path@127.0.0.1:2576/OML'), { name: 'leeds-path', host: '127.0.0.1', port: 2576, message: 'OML' });
  assert.throws(() => parseLab('leeds-path@127.0.0.1:2576/ADT'), /OML\^O21/);
});
