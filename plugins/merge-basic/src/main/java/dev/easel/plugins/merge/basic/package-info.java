/** The everyday checkpoint merges of AUTOMATIC1111, SuperMerger and sd-mecha, with their parameter names. */
package dev.easel.plugins.merge.basic;
