/** Tests of the assembled distribution, run as a user runs it: {@code bin/easel} in a separate process. */
package dev.easel.distribution;
