"""Stage 5, AWS: ARNs and partitions, roles in the assertion, STS, the console federation link."""
