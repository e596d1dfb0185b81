import assert from 'node:assert/strict';
import { PROTOCOL_VERSION, type ControllerMessage, type ErrorBody } from '@flotilla/protocol';
import { JsonClient } from '@flotilla/sandbox';
import WebSocket from 'ws';

/** A raw protocol peer: sends frames and collects what the controller answers. */
export class RawAgent {
  readonly received: ControllerMessage[] = [];
  closeCode: number | undefined;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) =>
      this.received.push(JSON.parse((data as Buffer).toString('utf8')) as ControllerMessage),
    );
    socket.on('close', (code) => (this.closeCode = code));
  }

  static connect(url: string, token: string): Promise<RawAgent> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
      socket.once('open', () => resolve(new RawAgent(socket)));
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`HTTP ${res.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  hello(host: string, protocolVersion = PROTOCOL_VERSION, agentVersion = '0.1.0'): void {
    this.socket.send(
      JSON.stringify({
        type: 'hello',
        protocolVersion,
        host,
        os: 'linux',
        mode: 'managed',
        agentVersion,
      }),
    );
  }

  /** Waits for the next error message after `from` and returns its body. */
  async nextError(from: number): Promise<ErrorBody> {
    const message = await JsonClient.until(
      async () => this.received.slice(from).find((m) => m.type === 'error'),
      'an error message',
      10_000,
    );
    assert.equal(message.type, 'error');
    return message.error;
  }
}
