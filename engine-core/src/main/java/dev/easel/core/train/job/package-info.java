/** Training jobs: the single-slot queue on the shared compute runtime and each job's live status. */
package dev.easel.core.train.job;
