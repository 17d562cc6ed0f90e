"""The local stack: everything `optionflow dev` needs to run the Lambda app on one machine."""
