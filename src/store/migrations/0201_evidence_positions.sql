-- 0201 the ledger's read position per partition (one row each), so finding where to resume does
-- not scan evidence_batches; filled from the batches already stored.
CREATE TABLE evidence_positions (
    topic       text    NOT NULL,
    "partition" integer NOT NULL,
    next_offset bigint  NOT NULL,
    PRIMARY KEY (topic, "partition")
);
INSERT INTO evidence_positions (topic, "partition", next_offset)
SELECT topic, "partition", max("offset") + 1 FROM evidence_batches GROUP BY topic, "partition";
