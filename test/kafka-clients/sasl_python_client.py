# kafka-python 2.0.2 against a SASL listener: it sends SaslHandshake v0 and then raw SASL
# tokens, which spool does not read; the broker answers UNSUPPORTED_VERSION in the handshake
# and closes (kafka-python then reports NoBrokersAvailable). Prints "refused: <error>" when the
# client gives up, "connected" otherwise.
import sys

from kafka import KafkaAdminClient

try:
    client = KafkaAdminClient(
        bootstrap_servers=sys.argv[1],
        security_protocol='SASL_PLAINTEXT',
        sasl_mechanism='SCRAM-SHA-256',
        sasl_plain_username='admin',
        sasl_plain_password='admin-secret',
        request_timeout_ms=5000,
        api_version_auto_timeout_ms=5000,
    )
    client.list_topics()
    print('connected')
except Exception as error:  # noqa: BLE001 - any refusal is what the test wants to see
    print(f'refused: {type(error).__name__}: {error}')
