//! A gzip writer that compresses fixed-size blocks on several threads, pigz-style: each block is
//! raw deflate primed with the previous 32 KiB as a dictionary and ended with a sync flush, so
//! the concatenation is one valid deflate stream. The output depends only on the input, the
//! level and [`BLOCK_SIZE`], never on the number of threads, so digests stay reproducible.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread;

use flate2::{Compress, Compression, Crc, FlushCompress};

pub const BLOCK_SIZE: usize = 1 << 20;
const WINDOW: usize = 32 * 1024;

/// gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS "unknown" (255), so the
/// bytes do not depend on the machine or the time.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

struct Job {
    index: u64,
    dictionary: Vec<u8>,
    data: Vec<u8>,
    last: bool,
}

pub struct ParallelGzipWriter<W: Write> {
    inner: Option<W>,
    tail: Option<Vec<u8>>,
    pending: Vec<u8>,
    crc: Crc,
    next_index: u64,
    next_to_write: u64,
    done: BTreeMap<u64, io::Result<Vec<u8>>>,
    jobs: Option<mpsc::SyncSender<Job>>,
    results: mpsc::Receiver<(u64, io::Result<Vec<u8>>)>,
    workers: Vec<thread::JoinHandle<()>>,
    in_flight: usize,
    max_in_flight: usize,
    header_written: bool,
}

impl<W: Write> ParallelGzipWriter<W> {
    pub fn new(inner: W, level: u32) -> ParallelGzipWriter<W> {
        let threads = thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(threads);
        let job_rx = std::sync::Arc::new(std::sync::Mutex::new(job_rx));
        let (result_tx, results) = mpsc::channel();
        let workers = (0..threads)
            .map(|_| {
                let job_rx = job_rx.clone();
                let result_tx = result_tx.clone();
                thread::spawn(move || {
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let out = compress_block(&job, level);
                        if result_tx.send((job.index, out)).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        ParallelGzipWriter {
            inner: Some(inner),
            tail: None,
            pending: Vec::with_capacity(BLOCK_SIZE),
            crc: Crc::new(),
            next_index: 0,
            next_to_write: 0,
            done: BTreeMap::new(),
            jobs: Some(job_tx),
            results,
            workers,
            in_flight: 0,
            max_in_flight: threads * 2,
            header_written: false,
        }
    }

    fn inner(&mut self) -> &mut W {
        self.inner.as_mut().expect("writer used after finish")
    }

    fn submit(&mut self, last: bool) -> io::Result<()> {
        if !self.header_written {
            self.inner().write_all(&HEADER)?;
            self.header_written = true;
        }
        let data = std::mem::replace(&mut self.pending, Vec::with_capacity(BLOCK_SIZE));
        let dictionary = self.tail.take().unwrap_or_default();
        self.tail = Some(data[data.len().saturating_sub(WINDOW)..].to_vec());
        let job = Job {
            index: self.next_index,
            dictionary,
            data,
            last,
        };
        self.next_index += 1;
        while self.in_flight >= self.max_in_flight {
            self.collect_one()?;
        }
        self.jobs
            .as_ref()
            .expect("jobs channel open until finish")
            .send(job)
            .map_err(|_| io::Error::other("compression worker stopped"))?;
        self.in_flight += 1;
        self.write_ready()
    }

    fn collect_one(&mut self) -> io::Result<()> {
        let (index, out) = self
            .results
            .recv()
            .map_err(|_| io::Error::other("compression worker stopped"))?;
        self.in_flight -= 1;
        self.done.insert(index, out);
        self.write_ready()
    }

    fn write_ready(&mut self) -> io::Result<()> {
        while let Some(out) = self.done.remove(&self.next_to_write) {
            let bytes = out?;
            self.inner().write_all(&bytes)?;
            self.next_to_write += 1;
        }
        Ok(())
    }

    /// Compresses what is left, writes the trailer and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while self.in_flight > 0 {
            self.collect_one()?;
        }
        let crc = self.crc.sum();
        let size = self.crc.amount();
        let mut inner = self.inner.take().expect("finish called once");
        inner.write_all(&crc.to_le_bytes())?;
        inner.write_all(&size.to_le_bytes())?;
        Ok(inner)
    }
}

fn compress_block(job: &Job, level: u32) -> io::Result<Vec<u8>> {
    let mut deflate = Compress::new(Compression::new(level), false);
    if !job.dictionary.is_empty() {
        deflate
            .set_dictionary(&job.dictionary)
            .map_err(io::Error::other)?;
    }
    let flush = if job.last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(job.data.len() / 2 + 1024);
    loop {
        let consumed = deflate.total_in() as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let status = deflate
            .compress_vec(&job.data[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = deflate.total_in() as usize == job.data.len();
        let room_left = out.capacity() > out.len();
        match status {
            flate2::Status::StreamEnd => return Ok(out),
            _ if all_in && room_left && !job.last => return Ok(out),
            _ => {}
        }
    }
}

impl<W: Write> Write for ParallelGzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let take = buf.len().min(BLOCK_SIZE - self.pending.len());
        self.pending.extend_from_slice(&buf[..take]);
        self.crc.update(&buf[..take]);
        if self.pending.len() == BLOCK_SIZE {
            self.submit(false)?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for ParallelGzipWriter<W> {
    fn drop(&mut self) {
        self.jobs.take();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
