import { connect } from 'rabbitmq-stream-js-client';
const c = await connect({ hostname: '127.0.0.1', port: 35552, username: 'guest', password: 'guest', vhost: '/' });
console.log('connected');
await c.createStream({ stream: 'probe' }); console.log('created');
const p = await c.declarePublisher({ stream: 'probe' }); console.log('publisher');
await p.send(Buffer.from('x')); console.log('sent');
await c.close();
