/**
 * The common vocabulary of every Easel plugin: the descriptor that names a service ({@code family/impl} id and
 * semantic version), the base {@link dev.easel.api.EaselPlugin} interface, and the parameter schema that the CLI,
 * the server and job configs validate against before any work starts.
 *
 * <p>Package versions follow OSGi semantic versioning: plugins import {@code [1.x,2)}; adding a default method bumps
 * the minor version, anything that breaks an implementation bumps the major version.
 */
@Export
@Version("1.0.0")
package dev.easel.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
