/**
 * Curated distributions: the JSON lockfile that pins a plugin set (coordinates, versions, sha256), the build-time
 * tool that checks or rewrites it, and the run-time check that refuses a bundle whose bytes differ from its pin.
 */
package dev.easel.core.dist;
