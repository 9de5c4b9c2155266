/**
 * Handles onto the Stable Diffusion networks that the engine builds (text encoders, UNet, VAE), as adapter types
 * and training methods see them: named modules with their kind and weight shape, and the original forward of a
 * module that an adapter wraps. The engine implements every type here; plugins only call them.
 *
 * <p>Version 0.x: the shape is designed to express every method of the mission, and may still change in a minor
 * release until the training issues have exercised it.
 */
@Export
@Version("0.9.0")
package dev.easel.api.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
