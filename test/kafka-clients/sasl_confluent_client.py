# confluent-kafka (Debian's python3-confluent-kafka over librdkafka) against a SASL listener:
# SaslHandshake v1 + SaslAuthenticate, as kcat. Produces N keyed messages (acks=all), reads
# them back in a consumer group, commits, and prints one JSON line:
# {"produced": N, "consumed": N}. Run with /usr/bin/python3.
#
#   sasl_confluent_client.py BOOTSTRAP TOPIC GROUP COUNT PROTOCOL MECHANISM USER PASSWORD [CAFILE]
import json
import sys
import time

from confluent_kafka import Consumer, Producer

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
protocol, mechanism, user, password = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
security = {
    'bootstrap.servers': bootstrap,
    'security.protocol': protocol,
    'sasl.mechanisms': mechanism,
    'sasl.username': user,
    'sasl.password': password,
}
if len(sys.argv) > 9:
    security['ssl.ca.location'] = sys.argv[9]

delivered = []
errors = []


def on_delivery(error, message):
    (errors if error is not None else delivered).append(error or message.offset())


producer = Producer({**security, 'acks': 'all'})
for i in range(count):
    producer.produce(topic, key=b'k%d' % i, value=b'v%d' % i, on_delivery=on_delivery)
left = producer.flush(30)
if left or errors:
    print(f'produce failed: {left} left, errors {errors[:3]}')
    sys.exit(1)

consumer = Consumer({**security, 'group.id': group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
consumer.subscribe([topic])
seen = set()
deadline = time.monotonic() + 30
while len(seen) < count and time.monotonic() < deadline:
    message = consumer.poll(1.0)
    if message is None:
        continue
    if message.error():
        print(f'consume error: {message.error()}', file=sys.stderr)
        continue
    assert message.key() == b'k' + message.value()[1:]
    seen.add(message.value())
consumer.commit(asynchronous=False)
consumer.close()
print(json.dumps({'produced': len(delivered), 'consumed': len(seen)}))
