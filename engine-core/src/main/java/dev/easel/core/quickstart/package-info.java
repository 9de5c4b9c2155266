/**
 * {@code easel quickstart}: the main job end to end on files it generates, with a Markdown report. Each capability
 * of the engine adds a step here once it exists, so the quickstart is always the shortest tour of what works.
 */
package dev.easel.core.quickstart;
