//! Writing the built images to their destinations through the one sink API: every distinct
//! output of a run gets one sink, checked before anything is built, and is written once with
//! all the images going there. Different outputs are written side by side.

use crate::oci::BlobStore;
use crate::plan::Plan;
use crate::sink::{self, ImageSet, ImageSink, Output};

use super::{BuildError, BuildJob, BuiltImage, Progress, schedule};

/// The sinks of a run, one per distinct output.
pub(super) struct Sinks {
    sinks: Vec<(Output, Box<dyn ImageSink>)>,
    warnings: Vec<(Output, Vec<String>)>,
}

impl Sinks {
    /// Makes and checks the sink of every output the jobs name.
    pub(super) fn check(jobs: &[BuildJob], progress: &dyn Progress) -> Result<Sinks, BuildError> {
        let mut sinks: Vec<(Output, Box<dyn ImageSink>)> = Vec::new();
        for job in jobs {
            let outputs = std::iter::once(&job.options.output)
                .chain(job.options.images.iter().map(|i| &i.output));
            for output in outputs {
                if sinks.iter().any(|(o, _)| o == output) {
                    continue;
                }
                let sink = output.sink(&job.options.registry)?;
                sink.check(job.options.plan.platforms.len().max(1))?;
                sinks.push((output.clone(), sink));
            }
        }
        let _ = progress;
        Ok(Sinks {
            sinks,
            warnings: Vec::new(),
        })
    }

    /// Writes every built set to its output, and records in `built` the names each was
    /// written under, the reference that pins it, and what a push sent.
    pub(super) fn publish(
        &mut self,
        store: &BlobStore,
        jobs: &[BuildJob],
        plans: &[Plan],
        built: &mut [super::Built],
        progress: &dyn Progress,
    ) -> Result<(), BuildError> {
        // (output index, job index, image index) for every set.
        let mut places: Vec<(usize, usize, usize)> = Vec::new();
        for (j, (job, plan)) in jobs.iter().zip(plans).enumerate() {
            for (i, image) in plan.images.iter().enumerate() {
                let (_, output, _) = job.options.for_image(image);
                let o = self
                    .sinks
                    .iter()
                    .position(|(s, _)| s == output)
                    .expect("every output was checked");
                places.push((o, j, i));
            }
        }
        let outputs: Vec<usize> = (0..self.sinks.len()).collect();
        let sets_of = |o: usize| -> Vec<ImageSet> {
            places
                .iter()
                .filter(|p| p.0 == o)
                .map(|&(_, j, i)| built[j].0[i].clone())
                .collect()
        };
        let sinks = &self.sinks;
        let written = schedule::run_bounded(&outputs, schedule::PUSH_IMAGES_AT_ONCE, |_, &o| {
            let sets = sets_of(o);
            if sets.is_empty() {
                return Ok(Vec::new());
            }
            let (output, sink) = &sinks[o];
            progress.step(&format!("writing {}", sink.destination()));
            for set in &sets {
                progress.target(&set.name, &format!("push/write to {output}"));
            }
            Ok::<_, BuildError>(sink::publish(store, &sets, sink.as_ref(), &|m| {
                progress.step(m)
            })?)
        })?;
        for (o, published) in written.into_iter().enumerate() {
            let mine = places.iter().filter(|p| p.0 == o);
            for (&(_, j, i), p) in mine.zip(published) {
                let image: &mut BuiltImage = &mut built[j].1[i];
                progress.target(&image.name, "done");
                image.reference = p.pinned;
                image.references = p.references;
                image.push = p.push;
            }
        }
        for (output, _) in &self.sinks {
            let w = super::vcs::keep_output_out_of_vcs(&output.target);
            self.warnings.push((output.clone(), w));
        }
        Ok(())
    }

    /// What writing the job's own output warned about.
    pub(super) fn warnings(&self, job: &BuildJob) -> Vec<String> {
        self.warnings
            .iter()
            .filter(|(o, _)| *o == job.options.output)
            .flat_map(|(_, w)| w.clone())
            .collect()
    }
}
