//! Record-batch codec throughput: decoding (CRC check, decompression, record iteration) and
//! encoding (BatchWriter) of batches of 1000 records with 100-byte values.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafka::protocol::compression::Compression;
use kafka::protocol::records::{BatchIter, BatchWriter};

const RECORDS: usize = 1000;
const VALUE_LEN: usize = 100;

/// JSON-ish values with varying fields: compressible the way real payloads are, not runs of zeros.
fn values() -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..RECORDS)
        .map(|i| {
            let key = format!("user-{:05}", i * 7919 % 100_000).into_bytes();
            let mut value = format!(
                r#"{{"id":{i},"ts":{},"kind":"{}","score":{}"#,
                1_700_000_000_000u64 + i as u64 * 13,
                ["click", "view", "buy"][i % 3],
                i * 37 % 1000
            )
            .into_bytes();
            value.resize(VALUE_LEN - 1, b' ');
            value.push(b'}');
            (key, value)
        })
        .collect()
}

fn encode(data: &[(Vec<u8>, Vec<u8>)], w: &mut BatchWriter) -> Bytes {
    for (i, (k, v)) in data.iter().enumerate() {
        w.push(1_700_000_000_000 + i as i64, Some(k), Some(v), &[]);
    }
    w.finish(0, -1, -1, -1, false).expect("finish")
}

fn decode(batch: Bytes) -> usize {
    let mut n = 0;
    for b in BatchIter::new(batch) {
        let b = b.expect("batch");
        b.verify_crc().expect("crc");
        for r in b.records(64 << 20).expect("records") {
            let r = r.expect("record");
            black_box(&r.value);
            n += 1;
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let data = values();
    let codecs = [Compression::None, Compression::Lz4];

    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(RECORDS as u64));
    for codec in codecs {
        let batch = encode(&data, &mut BatchWriter::new(codec, None));
        g.bench_with_input(
            BenchmarkId::from_parameter(codec.name()),
            &batch,
            |b, batch| b.iter(|| assert_eq!(decode(batch.clone()), RECORDS)),
        );
    }
    g.finish();

    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(RECORDS as u64));
    for codec in codecs {
        let mut w = BatchWriter::new(codec, None);
        g.bench_function(BenchmarkId::from_parameter(codec.name()), |b| {
            b.iter(|| black_box(encode(&data, &mut w)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
