# kafka-python 2.0.2 (Debian's python3-kafka) against a SASL listener. It authenticates the
# legacy way: SaslHandshake v0, then raw SASL tokens (`size:int32 token`, no request header).
# Produces N keyed messages (acks=all), reads them back in a consumer group, commits, and
# prints one JSON line: {"produced": N, "consumed": N}. When the client gives up (a wrong
# password: the broker closes the connection) it prints "refused: <error>" and exits 2.
# Run with /usr/bin/python3 (the one that sees Debian's modules).
#
#   sasl_python_client.py BOOTSTRAP TOPIC GROUP COUNT PROTOCOL MECHANISM USER PASSWORD [CAFILE]
import json
import sys

from kafka import KafkaConsumer, KafkaProducer

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
protocol, mechanism, user, password = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
cafile = sys.argv[9] if len(sys.argv) > 9 else None

security = dict(
    bootstrap_servers=bootstrap,
    security_protocol=protocol,
    sasl_mechanism=mechanism,
    sasl_plain_username=user,
    sasl_plain_password=password,
    api_version_auto_timeout_ms=3000,
)
if cafile is not None:
    security.update(ssl_cafile=cafile)

try:
    producer = KafkaProducer(acks='all', linger_ms=5, **security)
except Exception as error:  # noqa: BLE001 - any refusal is what a wrong-password run wants to see
    print(f'refused: {type(error).__name__}: {error}')
    sys.exit(2)
futures = [producer.send(topic, key=b'k%d' % i, value=b'v%d' % i) for i in range(count)]
producer.flush()
offsets = [f.get(timeout=30).offset for f in futures]
producer.close()

consumer = KafkaConsumer(topic, group_id=group, auto_offset_reset='earliest', enable_auto_commit=False,
                         consumer_timeout_ms=15000, **security)
seen = set()
for message in consumer:
    assert message.key == b'k' + message.value[1:]
    seen.add(message.value)
    if len(seen) == count:
        break
consumer.commit()
consumer.close()
print(json.dumps({'produced': len(offsets), 'consumed': len(seen)}))
