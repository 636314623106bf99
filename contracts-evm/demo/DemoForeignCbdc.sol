// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/**
 * @title DemoForeignCbdc
 * @notice A stand-in for a foreign CBDC on an EVM ledger, used by the embedded stack and tests for the
 * foreign leg of PvP swaps. The owner issues and withdraws money like a central bank; nothing more.
 */
contract DemoForeignCbdc is ERC20, Ownable {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address issuer)
        ERC20(name_, symbol_)
        Ownable(issuer)
    {
        _decimals = decimals_;
    }

    /// @notice The currency's minor-unit exponent (2 for most fiat currencies).
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Issuer only: creates `amount` minor units on `to`.
    /// @param to The receiving account.
    /// @param amount Minor units.
    function issue(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Issuer only: destroys `amount` minor units held by `from`.
    /// @param from The account debited.
    /// @param amount Minor units.
    function withdraw(address from, uint256 amount) external onlyOwner {
        _burn(from, amount);
    }
}
