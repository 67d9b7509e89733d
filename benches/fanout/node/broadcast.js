// The fan-out peer: a ws 8.x server that sends the same text frame to every connected client
// each time a line arrives on stdin, the way a Node hub would broadcast a notice.
'use strict';
const fs = require('fs');
const readline = require('readline');
const { WebSocketServer } = require('ws');

const [port, frameFile] = process.argv.slice(2);
const frame = fs.readFileSync(frameFile, 'utf8');
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(port), perMessageDeflate: false, backlog: 4096 });

wss.on('listening', () => console.log('listening'));
readline.createInterface({ input: process.stdin }).on('line', () => {
  for (const client of wss.clients) {
    client.send(frame);
  }
});
