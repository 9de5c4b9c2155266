/**
 * The registry of every plugin service by kind, id and version, however it arrived: from OSGi bundles hot-loaded
 * by the host, from {@link java.util.ServiceLoader} on the class path (tests, embedding), or built into the core.
 * Jobs select services by {@code id} or {@code id@range} and hold a {@link dev.easel.core.plugin.PluginLease} for
 * as long as they run, which is what lets a bundle be replaced under a running job.
 */
package dev.easel.core.plugin;
