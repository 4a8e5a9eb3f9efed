"""The local stack: Apache Kafka (KRaft, jars from Maven Central), PostgreSQL and Mosquitto,
started on 127.0.0.1 with their state under one directory, for development, demos and tests."""
