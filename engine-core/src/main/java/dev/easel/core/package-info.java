/**
 * The Easel host: one process that owns the compute runtime (DJL over libtorch) and the plugin host (embedded
 * Apache Felix), and the engines that drive plugins (merge, conversion, training). Plugins never depend on this
 * module; what they need from it is an interface in {@code engine-api} that the core implements.
 */
package dev.easel.core;
