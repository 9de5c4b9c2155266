/**
 * {@code easel serve}: the long-lived process that owns the compute device and the plugin host, with an HTTP API
 * on loopback (Javalin over Jetty). Later issues add job endpoints; jobs run one at a time on the shared runtime.
 */
package dev.easel.server;
