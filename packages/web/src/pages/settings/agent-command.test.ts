import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentCommand, agentGatewayUrl } from './agent-command.js';

describe("the agent's command shown with an enrollment token", () => {
  it('dials the gateway over wss behind https and ws otherwise', () => {
    assert.equal(
      agentGatewayUrl('https://fleet.example.org'),
      'wss://fleet.example.org/api/v1/agent/ws',
    );
    assert.equal(agentGatewayUrl('http://127.0.0.1:8080/'), 'ws://127.0.0.1:8080/api/v1/agent/ws');
  });

  it('names the host, the token file and the key to trust', () => {
    const command = agentCommand('hsb1', 'https://fleet.example.org', 'fleet-1:abc=');
    assert.match(command, /--host hsb1 /);
    assert.match(command, /--enrollment-token-file \/var\/lib\/flotilla-agent\/enrollment-token/);
    assert.match(command, /--trusted-public-key 'fleet-1:abc='/);
  });
});
