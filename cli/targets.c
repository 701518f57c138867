/* targets.c - placeholder */
