/**
 * The compute runtime: the single DJL PyTorch engine of the process, started by the host before the plugin
 * framework so that libtorch is bound to the application class loader exactly once (a native library can belong
 * to one class loader only), then shared with every bundle through the system bundle.
 */
package dev.easel.core.runtime;
