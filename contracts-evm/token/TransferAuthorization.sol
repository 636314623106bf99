// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/**
 * @title TransferAuthorization
 * @notice EIP-3009: a holder signs a transfer off chain (random 32-byte nonce, validity window) and anyone
 * (transferWithAuthorization) or only the payee (receiveWithAuthorization) submits it. Signatures may come
 * from an EOA (65-byte ECDSA) or a contract wallet (ERC-1271), as in FiatToken v2.2.
 */
abstract contract TransferAuthorization is ERC20, EIP712 {
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    mapping(address authorizer => mapping(bytes32 nonce => bool used)) private _authorizationUsed;

    /// @notice The authorization is not valid yet (chain time <= validAfter).
    error AuthorizationNotYetValid(uint256 validAfter);
    /// @notice The authorization has expired (chain time >= validBefore).
    error AuthorizationExpired(uint256 validBefore);
    /// @notice The nonce was already used or canceled.
    error AuthorizationUsedOrCanceled(address authorizer, bytes32 nonce);
    /// @notice The signature does not belong to the authorizer.
    error AuthorizationSignatureInvalid();
    /// @notice receiveWithAuthorization must be submitted by the payee.
    error AuthorizationCallerNotPayee(address caller, address payee);

    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @notice Whether the authorizer's nonce has been used or canceled.
    /// @param authorizer The signer of the authorization.
    /// @param nonce The 32-byte nonce the authorizer chose.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizationUsed[authorizer][nonce];
    }

    /// @notice Executes a transfer signed by `from` (ECDSA v, r, s); anyone may submit it.
    /// @param from Payer and signer.
    /// @param to Payee.
    /// @param value Amount in token units (tiyn).
    /// @param validAfter Unix time after which the authorization is valid.
    /// @param validBefore Unix time before which the authorization is valid.
    /// @param nonce Unique 32-byte nonce chosen by the payer.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, abi.encodePacked(r, s, v));
    }

    /// @notice Executes a transfer signed by `from` (ECDSA bytes or ERC-1271); anyone may submit it.
    /// @param from Payer and signer.
    /// @param to Payee.
    /// @param value Amount in token units (tiyn).
    /// @param validAfter Unix time after which the authorization is valid.
    /// @param validBefore Unix time before which the authorization is valid.
    /// @param nonce Unique 32-byte nonce chosen by the payer.
    /// @param signature The payer's signature.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) public {
        _useAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
        _transfer(from, to, value);
    }

    /// @notice Executes a transfer signed by `from` (ECDSA v, r, s); only the payee may submit it, which
    /// stops a front-runner from moving funds meant for a contract's deposit logic.
    /// @param from Payer and signer.
    /// @param to Payee, who must be the caller.
    /// @param value Amount in token units (tiyn).
    /// @param validAfter Unix time after which the authorization is valid.
    /// @param validBefore Unix time before which the authorization is valid.
    /// @param nonce Unique 32-byte nonce chosen by the payer.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        receiveWithAuthorization(from, to, value, validAfter, validBefore, nonce, abi.encodePacked(r, s, v));
    }

    /// @notice Executes a transfer signed by `from` (ECDSA bytes or ERC-1271); only the payee may submit it.
    /// @param from Payer and signer.
    /// @param to Payee, who must be the caller.
    /// @param value Amount in token units (tiyn).
    /// @param validAfter Unix time after which the authorization is valid.
    /// @param validBefore Unix time before which the authorization is valid.
    /// @param nonce Unique 32-byte nonce chosen by the payer.
    /// @param signature The payer's signature.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) public {
        if (msg.sender != to) revert AuthorizationCallerNotPayee(msg.sender, to);
        _useAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
        _transfer(from, to, value);
    }

    /// @notice Cancels an unused authorization (ECDSA v, r, s) so it can never execute.
    /// @param authorizer The signer of the authorization to cancel.
    /// @param nonce Its nonce.
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        cancelAuthorization(authorizer, nonce, abi.encodePacked(r, s, v));
    }

    /// @notice Cancels an unused authorization (ECDSA bytes or ERC-1271) so it can never execute.
    /// @param authorizer The signer of the authorization to cancel.
    /// @param nonce Its nonce.
    /// @param signature The authorizer's signature of CancelAuthorization.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) public {
        _beforeAuthorization();
        _consumeNonce(authorizer, nonce);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)));
        if (!SignatureChecker.isValidSignatureNow(authorizer, digest, signature)) revert AuthorizationSignatureInvalid();
        emit AuthorizationCanceled(authorizer, nonce);
    }

    /// @dev Hook for the token's pause check, run before any authorization is consumed.
    function _beforeAuthorization() internal view virtual;

    function _useAuthorization(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) private {
        _beforeAuthorization();
        if (block.timestamp <= validAfter) revert AuthorizationNotYetValid(validAfter);
        if (block.timestamp >= validBefore) revert AuthorizationExpired(validBefore);
        _consumeNonce(from, nonce);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce)));
        if (!SignatureChecker.isValidSignatureNow(from, digest, signature)) revert AuthorizationSignatureInvalid();
        emit AuthorizationUsed(from, nonce);
    }

    function _consumeNonce(address authorizer, bytes32 nonce) private {
        if (_authorizationUsed[authorizer][nonce]) revert AuthorizationUsedOrCanceled(authorizer, nonce);
        _authorizationUsed[authorizer][nonce] = true;
    }
}
