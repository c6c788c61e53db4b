"""The OM model container: header, partition tables, protobuf payloads, reader, bundles and
the corrupt-model corpus."""
