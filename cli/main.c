/* main.c - placeholder */
#include "trace.h"
int main(void) { return 2; }
