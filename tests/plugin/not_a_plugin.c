/* not_a_plugin.c - a shared library without epollfuzz_plugin_v1, for the
 * loader's "not a plugin" message. */
int not_a_plugin(void);

int not_a_plugin(void)
{
	return 0;
}
