/** Guice wiring of the core services. Plugins never see Guice; they receive context objects from engine-api. */
package dev.easel.core.inject;
