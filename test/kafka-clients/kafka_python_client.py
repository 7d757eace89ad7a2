# kafka-python (Debian's python3-kafka) against spool's Kafka listener: produce N keyed
# messages with a header, then read them in a consumer group, committing; prints one JSON
# line with what it saw. Run with /usr/bin/python3 (the one that sees Debian's modules).
import json
import sys

from kafka import KafkaConsumer, KafkaProducer

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', linger_ms=5)
futures = [producer.send(topic, key=b'k%d' % i, value=b'v%d' % i, headers=[('n', b'%d' % i)]) for i in range(count)]
producer.flush()
offsets = [f.get(timeout=30).offset for f in futures]
producer.close()

consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset='earliest',
                         enable_auto_commit=False, consumer_timeout_ms=15000)
seen = {}
for message in consumer:
    headers = dict(message.headers)
    assert headers['n'] == message.value[1:], (headers, message.value)
    assert message.key == b'k' + message.value[1:]
    seen[message.value.decode()] = message.offset
    if len(seen) == count:
        break
consumer.commit()
consumer.close()
print(json.dumps({'produced': len(offsets), 'consumed': len(seen)}))
