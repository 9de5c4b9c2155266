/**
 * The embedded Apache Felix plugin host: builds the system-bundle exports (engine-api, DJL api, Jackson, SLF4J),
 * installs plugin bundles, registers the services their {@code META-INF/services} files list, watches the plugins
 * directory for dropped, replaced and removed bundles, and drains an old bundle version until the last job holding
 * it ends. See {@code docs/architecture.md}, "Plugin host".
 */
package dev.easel.core.osgi;
