//! Writing the built images to their destinations through the one sink API: every distinct
//! output of a run gets one sink, checked before anything is built, and is written once with
//! all the images going there. Local outputs (layouts, archives) are written first, then
//! daemons, then registries, so a failed push keeps what was written; outputs of the same kind
//! are written side by side (the first registry alone before the others, so shared blobs are
//! mounted rather than uploaded twice).

use crate::oci::{BlobStore, ImageRef};
use crate::plan::Plan;
use crate::sink::{self, ImageSet, ImageSink, Output, Published, SinkError};

use super::{BuildError, BuildJob, BuiltImage, Progress, schedule};

/// The sinks of a run, one per distinct output, in write order.
pub(super) struct Sinks {
    sinks: Vec<(Output, Box<dyn ImageSink>)>,
    warnings: Vec<(Output, Vec<String>)>,
}

/// Where one image went, per output in write order (each a one-element list).
type PerOutput = Vec<Vec<Published>>;

/// Where every image of a run goes: (job index, image index in its plan, output), for each
/// image of each plan and each of its outputs (its own, or its job's).
pub(super) fn destinations<'a>(
    jobs: &'a [BuildJob],
    plans: &'a [Plan],
) -> Vec<(usize, usize, &'a Output)> {
    let mut out = Vec::new();
    for (j, (job, plan)) in jobs.iter().zip(plans).enumerate() {
        for (i, image) in plan.images.iter().enumerate() {
            for output in job.options.for_image(image).outputs {
                out.push((j, i, output));
            }
        }
    }
    out
}

/// Refuses no output at all and the same destination twice in one list.
fn check_list(outputs: &[Output]) -> Result<(), SinkError> {
    if outputs.is_empty() {
        return Err(SinkError::Unsupported("no output was given".into()));
    }
    for (i, a) in outputs.iter().enumerate() {
        if outputs[..i].iter().any(|b| b.target == a.target) {
            return Err(SinkError::Name(format!(
                "{a} is named twice as an output; name each destination once (use --tag \
                 for more names in one place)"
            )));
        }
    }
    Ok(())
}

impl Sinks {
    /// Makes and checks the sink of every output the jobs name, before anything is built.
    pub(super) fn check(jobs: &[BuildJob], progress: &dyn Progress) -> Result<Sinks, BuildError> {
        let mut sinks: Vec<(Output, Box<dyn ImageSink>)> = Vec::new();
        for job in jobs {
            let lists = std::iter::once(&job.options.outputs)
                .chain(job.options.images.iter().map(|i| &i.outputs));
            for list in lists {
                check_list(list)?;
                for output in list {
                    if sinks.iter().any(|(o, _)| o == output) {
                        continue;
                    }
                    let sink = output.sink(&job.options.registry)?;
                    sink.check(job.options.plan.platforms.len().max(1))?;
                    sinks.push((output.clone(), sink));
                }
            }
        }
        sinks.sort_by_key(|(o, _)| o.write_order());
        let _ = progress;
        Ok(Sinks {
            sinks,
            warnings: Vec::new(),
        })
    }

    /// Writes every built set to each of its outputs, and records in `built` the names each
    /// was written under (all outputs), the reference that pins it (the registry's when one
    /// was pushed to), and what a push sent.
    pub(super) fn publish(
        &mut self,
        store: &BlobStore,
        jobs: &[BuildJob],
        plans: &[Plan],
        built: &mut [super::Built],
        progress: &dyn Progress,
    ) -> Result<(), BuildError> {
        // (output index, job index, image index) for every set and each of its outputs.
        let places: Vec<(usize, usize, usize)> = destinations(jobs, plans)
            .into_iter()
            .map(|(j, i, output)| {
                let o = self
                    .sinks
                    .iter()
                    .position(|(s, _)| s == output)
                    .expect("every output was checked");
                (o, j, i)
            })
            .collect();
        let written = self.write(store, &places, built, progress)?;
        // Per (job, image): where it went, in write order.
        let mut per_image: std::collections::BTreeMap<(usize, usize), PerOutput> =
            Default::default();
        for (o, published) in written.into_iter().enumerate() {
            let mine = places.iter().filter(|p| p.0 == o);
            for (&(_, j, i), p) in mine.zip(published) {
                per_image.entry((j, i)).or_default().push(vec![p]);
            }
        }
        for ((j, i), list) in per_image {
            let image: &mut BuiltImage = &mut built[j].1[i];
            progress.target(&image.name, "done");
            if let Some(p) = sink::merge_published(list).into_iter().next() {
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

    /// Writes each output's sets, group after group ([`Sinks::groups`]). Returns, per
    /// output, where each of its sets went. When a group fails after others were written, the
    /// error names those (they stay written).
    fn write(
        &self,
        store: &BlobStore,
        places: &[(usize, usize, usize)],
        built: &[super::Built],
        progress: &dyn Progress,
    ) -> Result<Vec<Vec<Published>>, BuildError> {
        let sets_of = |o: usize| -> Vec<ImageSet> {
            places
                .iter()
                .filter(|p| p.0 == o)
                .map(|&(_, j, i)| built[j].0[i].clone())
                .collect()
        };
        let mut written: Vec<Vec<Published>> = Vec::new();
        for group in self.groups() {
            let members: Vec<usize> = group.clone().collect();
            let result = crate::parallel::run_bounded(
                &members,
                schedule::PUSH_IMAGES_AT_ONCE,
                |_, &o| -> Result<Vec<Published>, SinkError> {
                    let sets = sets_of(o);
                    if sets.is_empty() {
                        return Ok(Vec::new());
                    }
                    let (output, sink) = &self.sinks[o];
                    progress.step(&format!("writing {}", sink.destination()));
                    for set in &sets {
                        progress.target(&set.name, &format!("push/write to {output}"));
                    }
                    sink::publish(store, &sets, sink.as_ref(), &|m| progress.step(m))
                },
            );
            match result {
                Ok(done) => written.extend(done),
                Err(e) if group.start == 0 => return Err(e.into()),
                Err(e) => {
                    return Err(SinkError::Partial {
                        destination: self.sinks[group.clone()]
                            .iter()
                            .map(|(_, s)| s.destination())
                            .collect::<Vec<_>>()
                            .join(", "),
                        written: self.sinks[..group.start]
                            .iter()
                            .map(|(_, s)| s.destination())
                            .collect(),
                        source: Box::new(e),
                    }
                    .into());
                }
            }
        }
        Ok(written)
    }

    /// The outputs (indices, in write order) in the groups they are written in, one group
    /// after the other: the outputs of one kind side by side, except that the first registry
    /// goes alone before the other registries, so what it shares with them (the base-files
    /// layer, base layers: each gopack.toml target pushed to its own repository) is uploaded
    /// once and mounted into the other repositories of the registry instead of racing them.
    fn groups(&self) -> Vec<std::ops::Range<usize>> {
        let mut groups = Vec::new();
        let mut start = 0;
        while start < self.sinks.len() {
            let order = self.sinks[start].0.write_order();
            let end = start
                + self.sinks[start..]
                    .iter()
                    .take_while(|(o, _)| o.write_order() == order)
                    .count();
            if matches!(self.sinks[start].0.target, ImageRef::Registry(_)) && end - start > 1 {
                groups.push(start..start + 1);
                start += 1;
            }
            groups.push(start..end);
            start = end;
        }
        groups
    }

    /// What writing the job's own outputs (its images' included) warned about.
    pub(super) fn warnings(&self, job: &BuildJob) -> Vec<String> {
        let outputs = job.options.all_outputs();
        self.warnings
            .iter()
            .filter(|(o, _)| outputs.contains(&o))
            .flat_map(|(_, w)| w.clone())
            .collect()
    }
}
