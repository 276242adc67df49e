//! Rolling statistics windows (librdkafka's `rtt`, `throttle`, `int_latency`, `batchsize`...):
//! min, max, average, sum, count, standard deviation and percentiles of the samples recorded since
//! the previous statistics document.

use super::json::JsonWriter;

/// Samples kept for percentiles per window; past this min/max/sum/count stay exact.
const MAX_SAMPLES: usize = 4096;

/// One window of integer samples (microseconds, bytes or counts).
#[derive(Debug, Default, Clone)]
pub(crate) struct Window {
    samples: Vec<i64>,
    min: i64,
    max: i64,
    sum: i64,
    cnt: u64,
    sum_sq: f64,
}

impl Window {
    /// Records one sample; no allocation once the sample buffer has grown.
    pub fn add(&mut self, v: i64) {
        if self.cnt == 0 || v < self.min {
            self.min = v;
        }
        if self.cnt == 0 || v > self.max {
            self.max = v;
        }
        self.sum = self.sum.saturating_add(v);
        self.cnt += 1;
        self.sum_sq += (v as f64) * (v as f64);
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(v);
        }
    }

    /// Writes the window as object `key` and starts a new window (as librdkafka rolls them).
    pub fn write_and_roll(&mut self, w: &mut JsonWriter, key: &str) {
        self.samples.sort_unstable();
        let pct = |p: f64| -> i64 {
            if self.samples.is_empty() {
                return 0;
            }
            let i = ((p / 100.0) * self.samples.len() as f64).ceil() as usize;
            self.samples[i.clamp(1, self.samples.len()) - 1]
        };
        let avg = if self.cnt > 0 {
            self.sum / self.cnt as i64
        } else {
            0
        };
        let stddev = if self.cnt > 0 {
            let mean = self.sum as f64 / self.cnt as f64;
            (self.sum_sq / self.cnt as f64 - mean * mean)
                .max(0.0)
                .sqrt() as i64
        } else {
            0
        };
        w.open(Some(key));
        w.int("min", self.min);
        w.int("max", self.max);
        w.int("avg", avg);
        w.int("sum", self.sum);
        w.int("stddev", stddev);
        w.int("p50", pct(50.0));
        w.int("p75", pct(75.0));
        w.int("p90", pct(90.0));
        w.int("p95", pct(95.0));
        w.int("p99", pct(99.0));
        w.int("p99_99", pct(99.99));
        w.int("outofrange", 0);
        w.int("hdrsize", 0);
        w.uint("cnt", self.cnt);
        w.close();
        let mut samples = std::mem::take(&mut self.samples);
        samples.clear();
        *self = Window {
            samples,
            ..Window::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_and_rolls() {
        let mut win = Window::default();
        for v in 1..=100 {
            win.add(v);
        }
        let mut w = JsonWriter::with_capacity(256);
        w.open(None);
        win.write_and_roll(&mut w, "rtt");
        win.write_and_roll(&mut w, "next");
        w.close();
        assert_eq!(
            w.finish(),
            "{\"rtt\":{\"min\":1,\"max\":100,\"avg\":50,\"sum\":5050,\"stddev\":28,\"p50\":50,\
             \"p75\":75,\"p90\":90,\"p95\":95,\"p99\":99,\"p99_99\":100,\"outofrange\":0,\
             \"hdrsize\":0,\"cnt\":100},\"next\":{\"min\":0,\"max\":0,\"avg\":0,\"sum\":0,\
             \"stddev\":0,\"p50\":0,\"p75\":0,\"p90\":0,\"p95\":0,\"p99\":0,\"p99_99\":0,\
             \"outofrange\":0,\"hdrsize\":0,\"cnt\":0}}"
        );
    }
}
