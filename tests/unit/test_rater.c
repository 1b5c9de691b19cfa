/* test_rater.c - being written. */
int main(void) { return 0; }
