#!/usr/bin/python
# Test-only module: returns its `result` argument as the task result, so a test can
# hand the report callback what a faulty module might return.
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"result": {"type": "dict", "required": True}},
                           supports_check_mode=True)
    module.exit_json(changed=False, **module.params["result"])


if __name__ == "__main__":
    main()
