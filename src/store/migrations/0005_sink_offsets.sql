-- 0005 sink offsets: the same in both modes. The sink stores, in the transaction that writes a
-- batch's rows, the next Kafka offset of every partition it consumed; records below it are
-- already in the database and are skipped, so a replay after a crash between the database
-- commit and the Kafka commit writes nothing twice (docs/storage.md).
CREATE TABLE sink_offsets (
    group_id    text   NOT NULL,
    topic       text   NOT NULL,
    "partition" integer NOT NULL,
    next_offset bigint NOT NULL CHECK (next_offset >= 0),
    PRIMARY KEY (group_id, topic, "partition")
);
